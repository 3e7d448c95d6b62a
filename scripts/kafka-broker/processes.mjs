// Process and port probes, and the broker's log, as the other modules need them.
import fs from 'node:fs';
import net from 'node:net';
import { HOST, readJson } from './config.mjs';

/** True when pid is a live (non-zombie) process; when `kafkaOnly`, also that it runs kafka.Kafka. */
export function isAlive(pid, { kafkaOnly = false } = {}) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    if (kafkaOnly) {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmdline.includes('kafka.Kafka');
    }
  } catch {
    // no procfs (not Linux): fall back to the kill(0) answer
  }
  return true;
}

/** Resident memory of `pid` in KiB (Linux), or undefined. */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves true when a TCP connection to host:port succeeds within timeoutMs. */
export function portOpen(port, host = HOST, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The last `lines` lines of a log file. */
export function tail(file, lines = 60) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The first ERROR / FATAL lines of a broker log. */
export function errorLines(file, max = 8) {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /\] (ERROR|FATAL) |^Exception in thread/.test(l))
      .slice(0, max)
      .join('\n');
  } catch {
    return '';
  }
}

/** The broker's pid, from broker.json or kafka.pid. */
export function readPid(p) {
  const info = readJson(p.infoFile);
  if (info && Number.isInteger(info.pid)) return info.pid;
  try {
    const pid = Number(fs.readFileSync(p.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

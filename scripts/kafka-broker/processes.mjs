// Process and port probes, and the broker's log, as the other modules need them.
import fs from 'node:fs';
import * as shared from '../shared/processes.mjs';
import { HOST, readJson } from './config.mjs';

/** True when pid is a live (non-zombie) process; when `kafkaOnly`, also that it runs kafka.Kafka. */
export function isAlive(pid, { kafkaOnly = false } = {}) {
  return shared.isAlive(pid, kafkaOnly ? { commandLine: (argv) => argv.includes('kafka.Kafka') } : {});
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
  return shared.portOpen(port, host, timeoutMs);
}

export { tail } from '../shared/processes.mjs';

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

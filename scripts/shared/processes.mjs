// Process, port and file probes shared by the local services the scripts run as plain processes:
// the Kafka broker (scripts/kafka-broker/*) and the schema registry (scripts/schema-registry.mjs).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The parsed JSON file, or undefined when it is missing or unreadable. */
export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * True when pid is a live (non-zombie) process; with `commandLine`, also that its argv (from
 * /proc/<pid>/cmdline) satisfies it. Without procfs (not Linux) the kill(0) answer decides.
 */
export function isAlive(pid, { commandLine } = {}) {
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
    if (commandLine) return commandLine(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  } catch {
    // no procfs (not Linux): fall back to the kill(0) answer
  }
  return true;
}

/** Resolves true when a TCP connection to host:port succeeds within timeoutMs. */
export function portOpen(port, host = '127.0.0.1', timeoutMs = 1000) {
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

/** Runs `main(argv)` when the module at `moduleUrl` is the script node was started with; exits with its code. */
export function runAsCli(moduleUrl, main) {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${err.stack || err}\n`);
      process.exit(1);
    },
  );
}

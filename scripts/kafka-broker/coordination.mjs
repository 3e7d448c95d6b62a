// Coordination between concurrent users of the one broker (same checkout, fixed ports)
//   .kafka/run.lock        held (O_EXCL file with the holder's pid) while a broker is checked/started/stopped
//   .kafka/run.leases/<pid> one per runner process (run-tests / run-with-kafka) currently using the broker
// A broker started by a runner has autoStop=true and is stopped by the last runner that leaves;
// one started with `kafka-broker.mjs start` is never stopped by a runner.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, RUN_DIR_NAME, defaultLog, sleep } from './config.mjs';
import { isAlive } from './processes.mjs';
import { throwIfAborted } from './readiness.mjs';

/** Runs `fn` holding the start/stop lock of this port base. */
export async function withStartLock(root, timeoutMs, fn, signal) {
  const lockFile = path.join(root, '.kafka', `${RUN_DIR_NAME}.lock`);
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    throwIfAborted(signal);
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(lockFile, 'utf8').trim() || NaN);
      if (!isAlive(holder) || holder === process.pid) {
        fs.rmSync(lockFile, { force: true }); // stale: its holder died
        continue;
      }
      if (!announced) {
        defaultLog(`waiting for process ${holder}, which is starting/stopping the broker ...`);
        announced = true;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockFile} (held by pid ${holder})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

function leaseDir(root) {
  return path.join(root, '.kafka', `${RUN_DIR_NAME}.leases`);
}

/** pids of live runner processes using the broker (stale lease files are removed). */
export function liveLeases(root = ROOT) {
  const dir = leaseDir(root);
  let names = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const live = [];
  for (const name of names) {
    const pid = Number(name);
    if (isAlive(pid)) live.push(pid);
    else fs.rmSync(path.join(dir, name), { force: true });
  }
  return live;
}

export function addLease(root) {
  fs.mkdirSync(leaseDir(root), { recursive: true });
  fs.writeFileSync(path.join(leaseDir(root), String(process.pid)), `${new Date().toISOString()}\n`);
}

export function removeLease(root) {
  fs.rmSync(path.join(leaseDir(root), String(process.pid)), { force: true });
}

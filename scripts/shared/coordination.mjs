// Coordination between concurrent users of one local service (the Kafka broker of a port base, the
// schema registry of a checkout): a lock file held while the service is checked/started/stopped, and
// one lease file per runner process using it.
//   <lockFile>        O_EXCL file with the holder's pid; a dead holder's lock is taken over
//   <leaseDir>/<pid>  one per runner process currently using the service
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, sleep } from './processes.mjs';

/**
 * Runs `fn` holding `lockFile`. `beforeEachTry()` may throw to give up (an aborted start);
 * `onWait(holderPid)` is called once when another live process holds the lock.
 */
export async function withLockFile(lockFile, timeoutMs, fn, { beforeEachTry, onWait } = {}) {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    beforeEachTry?.();
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
        onWait?.(holder);
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

/** pids of the live processes with a lease in `leaseDir` (stale lease files are removed). */
export function liveLeasesIn(leaseDir) {
  let names = [];
  try {
    names = fs.readdirSync(leaseDir);
  } catch {
    return [];
  }
  const live = [];
  for (const name of names) {
    const pid = Number(name);
    if (isAlive(pid)) live.push(pid);
    else fs.rmSync(path.join(leaseDir, name), { force: true });
  }
  return live;
}

/** Records `pid`'s lease in `leaseDir`. */
export function addLeaseIn(leaseDir, pid = process.pid) {
  fs.mkdirSync(leaseDir, { recursive: true });
  fs.writeFileSync(path.join(leaseDir, String(pid)), `${new Date().toISOString()}\n`);
}

/** Drops `pid`'s lease from `leaseDir`. */
export function removeLeaseIn(leaseDir, pid = process.pid) {
  fs.rmSync(path.join(leaseDir, String(pid)), { force: true });
}

// Coordination between concurrent users of the one broker (same checkout, fixed ports)
//   .kafka/run.lock        held (O_EXCL file with the holder's pid) while a broker is checked/started/stopped
//   .kafka/run.leases/<pid> one per runner process (run-tests / run-with-kafka) currently using the broker
// A broker started by a runner has autoStop=true and is stopped by the last runner that leaves;
// one started with `kafka-broker.mjs start` is never stopped by a runner.
import path from 'node:path';
import { addLeaseIn, liveLeasesIn, removeLeaseIn, withLockFile } from '../shared/coordination.mjs';
import { ROOT, RUN_DIR_NAME, defaultLog } from './config.mjs';
import { throwIfAborted } from './readiness.mjs';

/** Runs `fn` holding the start/stop lock of this port base. */
export async function withStartLock(root, timeoutMs, fn, signal) {
  return withLockFile(path.join(root, '.kafka', `${RUN_DIR_NAME}.lock`), timeoutMs, fn, {
    beforeEachTry: () => throwIfAborted(signal),
    onWait: (holder) =>
      defaultLog(`waiting for process ${holder}, which is starting/stopping the broker ...`),
  });
}

function leaseDir(root) {
  return path.join(root, '.kafka', `${RUN_DIR_NAME}.leases`);
}

/** pids of live runner processes using the broker (stale lease files are removed). */
export function liveLeases(root = ROOT) {
  return liveLeasesIn(leaseDir(root));
}

export function addLease(root) {
  addLeaseIn(leaseDir(root));
}

export function removeLease(root) {
  removeLeaseIn(leaseDir(root));
}

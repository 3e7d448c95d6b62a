// The shared runner of scripts/run-tests.mjs, scripts/run-with-kafka.mjs and scripts/run-fault-tests.mjs:
// a command run with the broker environment, the broker started (or reused) for it and released after.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { DEFAULT_KAFKA_VERSION, ROOT, defaultLog } from './config.mjs';
import { liveLeases, removeLease, withStartLock } from './coordination.mjs';
import { brokerEnv, startBroker, stopBroker } from './lifecycle.mjs';
import { brokerStatus, throwIfAborted } from './readiness.mjs';

/** Removes `--kafka-version X` / `--kafka-version=X` from argv; returns the version and the rest. */
export function takeKafkaVersion(argv, fallback = process.env.GOMES_KAFKA_VERSION || DEFAULT_KAFKA_VERSION) {
  const rest = [];
  let version = fallback;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--kafka-version') {
      version = argv[++i];
      if (!version) throw new Error('--kafka-version needs a value, e.g. --kafka-version 3.9.1');
    } else if (a.startsWith('--kafka-version=')) {
      version = a.slice('--kafka-version='.length);
    } else {
      rest.push(a);
    }
  }
  return { version, rest };
}

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Leaves the broker: drops this process's lease; stops an autoStop broker when nobody else uses it. */
export async function releaseBroker({ root = ROOT, log = defaultLog } = {}) {
  removeLease(root);
  await withStartLock(root, 60_000, async () => {
    const status = await brokerStatus({ root });
    if (!status.alive || !status.info?.autoStop) return;
    const users = liveLeases(root);
    if (users.length > 0) {
      log(`leaving the Kafka broker running for process(es) ${users.join(', ')}`);
      return;
    }
    await stopBroker({ root, log });
  });
}

/**
 * Runs `command args` with the broker environment and exits the process with the command's exit code.
 * KAFKA_BROKERS already set -> no broker handling. Otherwise start the broker (autoStop) or reuse a running
 * one of the same version, holding a lease. On exit (also on failure, SIGINT, SIGTERM) the lease is dropped
 * and an autoStop broker nobody else uses is stopped; a broker started by `kafka-broker.mjs start` stays.
 * `afterRun` (async) runs after the command and the broker release, before the process exits.
 */
export async function runWithBroker({
  command,
  args = [],
  version = DEFAULT_KAFKA_VERSION,
  fullJit,
  root = ROOT,
  log = defaultLog,
  afterRun,
}) {
  let child;
  let signalled;
  let leased = false;
  const aborter = new AbortController();

  const onSignal = (sig) => {
    signalled ??= sig;
    if (child) {
      if (child.exitCode === null && child.signalCode === null) {
        // a terminal's SIGINT reaches the child directly (same process group); forward anything else
        try {
          child.kill(sig);
        } catch {
          // gone
        }
      }
    } else {
      aborter.abort(sig); // during broker startup: kill what we spawned and leave
    }
  };
  for (const sig of Object.keys(SIGNAL_EXIT)) process.on(sig, onSignal);

  let env = process.env;
  if (!process.env.KAFKA_BROKERS) {
    try {
      const info = await startBroker({
        version,
        root,
        log,
        reuse: true,
        autoStop: true,
        lease: true,
        signal: aborter.signal,
        ...(fullJit === undefined ? {} : { fullJit }),
      });
      leased = true;
      env = { ...process.env, ...brokerEnv(info) };
      throwIfAborted(aborter.signal);
    } catch (err) {
      log(err.code === 'KAFKA_START_ABORTED' ? err.message : err.stack || String(err));
      if (leased) await releaseBroker({ root, log }).catch((e) => log(`release failed: ${e.message}`));
      process.exit(signalled ? SIGNAL_EXIT[signalled] : 1);
    }
  }

  const code = await new Promise((resolve) => {
    child = spawn(command, args, { stdio: 'inherit', env });
    child.on('error', (err) => {
      log(`failed to run ${command}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (c, sig) => resolve(c ?? 128 + (os.constants.signals[sig] ?? 0)));
  });
  if (leased) await releaseBroker({ root, log }).catch((e) => log(`release failed: ${e.message}`));
  if (afterRun) await afterRun().catch((e) => log(`afterRun failed: ${e.message}`));
  process.exit(signalled && code === 0 ? SIGNAL_EXIT[signalled] : code);
}

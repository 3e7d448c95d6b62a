// Picks the broker's port base before scripts/kafka-broker.mjs is loaded (it reads
// GOMES_KAFKA_PORT_BASE at import time). When the default ports 19092-19095 are taken by something
// that is not this checkout's own broker (say, a broker left running by another checkout), the
// test runner moves to the next free base instead of failing on a busy port.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_BASE = 19092;

async function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function baseFree(base) {
  for (let p = base; p < base + 4; p++) if (!(await portFree(p))) return false;
  return true;
}

function ownBrokerAlive() {
  try {
    const pid = Number(fs.readFileSync(path.join(ROOT, '.kafka', 'run', 'kafka.pid'), 'utf8').trim());
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sets GOMES_KAFKA_PORT_BASE to a free base when the default one is busy with a foreign process. */
export async function chooseBrokerPortBase(log = (m) => process.stderr.write(`${m}\n`)) {
  if (process.env.KAFKA_BROKERS || process.env.GOMES_KAFKA_PORT_BASE) return;
  if (ownBrokerAlive() || (await baseFree(DEFAULT_BASE))) return;
  for (let base = DEFAULT_BASE + 100; base < DEFAULT_BASE + 1000; base += 100) {
    if (await baseFree(base)) {
      log(
        `[kafka] ports ${DEFAULT_BASE}-${DEFAULT_BASE + 3} are busy (not this checkout's broker); using ${base}-${base + 3}`,
      );
      process.env.GOMES_KAFKA_PORT_BASE = String(base);
      return;
    }
  }
}

/**
 * The clocked send loops of the raw anchors (kafkajs and @platformatic/kafka): the same loop and
 * clock for both libraries, each side supplying only its own `send` call.
 */
import { elapsedMs } from './stats.js';

/**
 * Sends `count` records in batches of `batchSize`, each batch awaited before the next (`sendBatch`
 * gets the batch's index range `[start, end)`). Returns msgs/s over the whole loop.
 */
export async function timedBatches(
  count: number,
  batchSize: number,
  sendBatch: (start: number, end: number) => Promise<void>,
): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i += batchSize) await sendBatch(i, Math.min(count, i + batchSize));
  return count / (elapsedMs(start) / 1000);
}

/** Awaits `send` for each item in turn; returns each one's latency in ms. */
export async function timedSends<T>(
  items: readonly T[],
  send: (item: T) => Promise<void>,
): Promise<number[]> {
  const latencies: number[] = [];
  for (const item of items) {
    const start = process.hrtime.bigint();
    await send(item);
    latencies.push(elapsedMs(start));
  }
  return latencies;
}

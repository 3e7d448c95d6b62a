import { GomesError } from '@gomes/core';
import type { SourcePosition } from '@gomes/core/transport';
import type { DriverAdmin, KafkaDriver } from './driver/kafka-driver.js';
import { toConnectionError } from './kafka-errors.js';

/**
 * Resolves a {@link SourcePosition} to the next offset to read of each of `partitions` of `topic`,
 * with the broker's list-offsets (one short-lived admin client per call):
 *
 * - `earliest`: the partition's earliest stored offset (`ListOffsets` -2);
 * - `latest`: its end (`ListOffsets` -1; the last stable offset, so a read-committed consumer
 *   never waits behind an open transaction);
 * - `timestamp`: the first offset whose record timestamp is at or after it (`ListOffsets` by time,
 *   as `offsetsForTimes`); a partition with no such record resolves to its end.
 *
 * Every requested partition gets an offset, or the call rejects (nothing is moved then: the
 * consume core keeps the partitions paused and reports the error).
 *
 * @throws GomesError `GOMES_CONNECTION_FAILED` (or `GOMES_AUTHENTICATION_FAILED`) when the broker
 * cannot answer; `GOMES_ILLEGAL_STATE` when a requested partition is not in the topic.
 * @internal
 */
export async function resolveSourceOffsets(
  driver: KafkaDriver,
  topic: string,
  partitions: readonly number[],
  position: SourcePosition,
): Promise<Map<number, bigint>> {
  if (partitions.length === 0) return new Map();
  const admin = driver.createAdmin();
  try {
    await admin.connect();
    const found = await offsetsOf(admin, topic, position);
    const offsets = new Map<number, bigint>();
    const missing: number[] = [];
    for (const partition of partitions) {
      const offset = found.get(partition);
      if (offset === undefined) missing.push(partition);
      else offsets.set(partition, offset);
    }
    if (missing.length > 0) {
      throw new GomesError(
        'ILLEGAL_STATE',
        `Kafka topic "${topic}" has no partition ${missing.join(', ')}: position "${position.kind}" not resolved`,
        { details: { topic, partitions: missing } },
      );
    }
    return offsets;
  } catch (error) {
    throw toConnectionError(error, `Kafka to resolve "${position.kind}" offsets of "${topic}"`, {
      topic,
      partitions: [...partitions],
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Every partition's offset for `position`. */
async function offsetsOf(
  admin: DriverAdmin,
  topic: string,
  position: SourcePosition,
): Promise<Map<number, bigint>> {
  if (position.kind === 'timestamp') {
    const at = await admin.fetchTopicOffsetsByTimestamp(topic, position.timestamp.getTime());
    const offsets = new Map(at.map((o) => [o.partition, BigInt(o.offset)]));
    // Drivers answer the end for a partition with no record at or after the timestamp; a client
    // that passed Kafka's -1 through is answered with the end here.
    if ([...offsets.values()].some((o) => o < 0n)) {
      for (const o of await admin.fetchTopicOffsets(topic)) {
        if ((offsets.get(o.partition) ?? 0n) < 0n) offsets.set(o.partition, BigInt(o.high));
      }
    }
    return offsets;
  }
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(position.kind === 'earliest' ? o.low : o.high)]));
}

// The partition key itself is defined with the message headers; re-exported here for convenience.
export { PARTITION_KEY_HEADER, partitionKeyOf } from '../../message/message-headers.js';

/**
 * Kafka's murmur2 hash (the Java client's `Utils.murmur2`) of the UTF-8 bytes of `key`, so the
 * in-memory broker spreads keys over partitions the way Kafka's default partitioner does.
 *
 * @public
 */
export function murmur2(key: string): number {
  const data = Buffer.from(key, 'utf8');
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = seed ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length & 3;
  const tail = length & ~3;
  if (rest === 3) h ^= (data[tail + 2] as number) << 16;
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[tail] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition of `key` among `partitions` partitions: `(murmur2(key) & 0x7fffffff) % partitions`,
 * Kafka's default partitioner for keyed records. Stable across processes and restarts.
 *
 * @public
 */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

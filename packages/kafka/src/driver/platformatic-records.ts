/**
 * Fetched record batches of `@platformatic/kafka`'s Fetch API, as the driver interface's records.
 *
 * @packageDocumentation
 */
import type { fetchV17, RecordsBatch } from '@platformatic/kafka';

/** One partition of a Fetch response (the library parses every version into this shape). @internal */
export type FetchResponsePartition = fetchV17.FetchResponsePartition;
import type { DriverInboundRecord } from './kafka-driver.js';

/** Record-batch attribute bits (Kafka's record batch format, v2). */
const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;

/** The records of one fetched partition, and the last offset the fetch covered. @internal */
export interface FetchedPartition {
  readonly records: DriverInboundRecord[];
  /** Last offset of the fetched batches (control batches included), or undefined when none. */
  readonly lastOffset: bigint | undefined;
}

/**
 * The data records of `partition` at or after `fetchOffset`, in offset order: control batches
 * (transaction markers) are dropped, and so are the records of aborted transactions when
 * `readCommitted` (the broker sends them with the list of aborted transactions; the client filters).
 *
 * @internal
 */
export function fetchedRecords(
  topic: string,
  partition: number,
  response: FetchResponsePartition,
  fetchOffset: bigint,
  readCommitted: boolean,
): FetchedPartition {
  const batches = response.records ?? [];
  const records: DriverInboundRecord[] = [];
  if (batches.length === 0) return { records, lastOffset: undefined };
  const last = batches[batches.length - 1] as RecordsBatch;
  const lastOffset = last.firstOffset + BigInt(last.lastOffsetDelta);
  const aborted = readCommitted ? new AbortedTransactions(response) : undefined;
  for (const batch of batches) {
    if (aborted?.skips(batch)) continue;
    if (batch.attributes & IS_CONTROL) continue;
    const firstTimestamp = batch.firstTimestamp;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      // The broker returns whole batches: records before the fetch offset were read already.
      if (offset < fetchOffset) continue;
      records.push({
        topic,
        partition,
        offset: offset.toString(),
        key: record.key ?? null,
        value: record.value ?? null,
        headers: headersOf(record.headers),
        timestamp: (firstTimestamp + record.timestampDelta).toString(),
      });
    }
  }
  return { records, lastOffset };
}

function headersOf(headers: readonly [Buffer | null, Buffer | null][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name === null || value === null) continue;
    out[name.toString('utf8')] = value.toString('utf8'); // repeated names: the last one wins (as kafkajs)
  }
  return out;
}

/**
 * The aborted transactions of a read-committed fetch: a transactional batch of a producer is aborted
 * from the aborted transaction's first offset until that producer's ABORT marker.
 */
class AbortedTransactions {
  /** Per producer id, the first offsets of its aborted transactions not closed yet, ascending. */
  readonly #open = new Map<bigint, bigint[]>();
  /** Producers whose current transaction is aborted (an aborted range started, no marker yet). */
  readonly #aborting = new Set<bigint>();

  constructor(response: FetchResponsePartition) {
    const sorted = [...response.abortedTransactions].sort((a, b) =>
      a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
    );
    for (const t of sorted) {
      const list = this.#open.get(t.producerId) ?? [];
      list.push(t.firstOffset);
      this.#open.set(t.producerId, list);
    }
  }

  /** Whether `batch` is part of an aborted transaction (its data is skipped; markers close ranges). */
  skips(batch: RecordsBatch): boolean {
    if (!(batch.attributes & IS_TRANSACTIONAL)) return false;
    const producer = batch.producerId;
    const starts = this.#open.get(producer);
    if (starts !== undefined && starts.length > 0 && (starts[0] as bigint) <= batch.firstOffset) {
      starts.shift();
      this.#aborting.add(producer);
    }
    if (batch.attributes & IS_CONTROL) {
      // A marker ends the producer's current transaction (commit or abort).
      this.#aborting.delete(producer);
      return true;
    }
    return this.#aborting.has(producer);
  }
}

import type { GomesError } from '@gomes/core';
import type { DriverOutboundRecord } from './driver/kafka-driver.js';

const noop = (): void => undefined;

/**
 * A record waiting for its produce request (in a {@link KafkaPublisherChannel}'s buffer); in sync
 * mode, with the promise its `send` returned.
 *
 * Its size in the request (key, value, header names and values as UTF-8) is known cheaply within
 * bounds: `minBytes` counts one byte per UTF-16 code unit of its strings (exact for ASCII), `maxBytes`
 * three (UTF-8's most per code unit). The exact `bytes` costs a UTF-8 scan of every string (~0.5 µs
 * for a 1 KiB value), so it is computed only when a batch gets close to `batchBytes`.
 *
 * @internal
 */
export class PendingRecord {
  readonly record: DriverOutboundRecord;
  readonly messageId: string;
  /** Sync mode: settled with the record's produce request (see `settled`). */
  readonly done: Promise<void> | undefined;
  readonly minBytes: number;
  readonly maxBytes: number;
  /** When the send times out (ms since the epoch). */
  readonly deadline: number;
  /** Reported to the caller already (acknowledged, failed or timed out): later outcomes are only counted. */
  settled = false;
  resolve: () => void = noop;
  reject: (error: GomesError) => void = noop;
  #bytes: number | undefined;

  constructor(record: DriverOutboundRecord, messageId: string, sync: boolean, deadline: number) {
    this.record = record;
    this.messageId = messageId;
    this.deadline = deadline;
    const { key, value, headers } = record;
    let units = key === null ? 0 : typeof key === 'string' ? key.length : 0;
    let raw = key !== null && typeof key !== 'string' ? key.length : 0;
    if (typeof value === 'string') units += value.length;
    else if (value !== null) raw += value.length;
    for (const name in headers) units += name.length + headers[name]!.length;
    this.minBytes = units + raw;
    this.maxBytes = 3 * units + raw;
    this.done = sync
      ? new Promise<void>((resolve, reject) => {
          this.resolve = resolve;
          this.reject = reject;
        })
      : undefined;
  }

  /** The record's exact size in the request (computed on first use). */
  get bytes(): number {
    return (this.#bytes ??= recordBytes(this.record));
  }
}

/** The bytes a record adds to a produce request (key, value, header names and values, as UTF-8). */
function recordBytes(record: DriverOutboundRecord): number {
  const { key, value, headers } = record;
  let bytes =
    (value === null ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length) +
    (key === null ? 0 : Buffer.byteLength(key));
  for (const name in headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(headers[name]!);
  return bytes;
}

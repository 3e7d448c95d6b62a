/** The 1 KB JSON payload both sides send. */

/** Serialized size of every payload, in bytes (UTF-8, ASCII only). */
export const PAYLOAD_BYTES = 1024;

/** An order-like event body. */
export interface BenchPayload {
  readonly orderId: string;
  readonly customerId: string;
  readonly seq: number;
  readonly createdAt: string;
  readonly currency: string;
  readonly lines: readonly { sku: string; quantity: number; unitPrice: number }[];
  readonly note: string;
}

/** A payload whose `JSON.stringify` is exactly {@link PAYLOAD_BYTES} bytes. */
export function makePayload(seq: number, run: string): BenchPayload {
  const base: BenchPayload = {
    orderId: `${run}-order-${seq}`,
    customerId: `customer-${seq % 997}`,
    seq,
    createdAt: '2025-01-01T00:00:00.000Z',
    currency: 'EUR',
    lines: [
      { sku: 'SKU-0001', quantity: 1 + (seq % 5), unitPrice: 19.99 },
      { sku: 'SKU-0002', quantity: 2, unitPrice: 5.5 },
      { sku: 'SKU-0003', quantity: 1, unitPrice: 120 },
    ],
    note: '',
  };
  const pad = PAYLOAD_BYTES - JSON.stringify(base).length;
  if (pad < 0) throw new RangeError(`payload base exceeds ${PAYLOAD_BYTES} bytes`);
  return { ...base, note: 'x'.repeat(pad) };
}

/** `count` payloads (built before timing starts, for both sides alike). */
export function makePayloads(count: number, run: string, offset = 0): BenchPayload[] {
  return Array.from({ length: count }, (_, i) => makePayload(offset + i, run));
}

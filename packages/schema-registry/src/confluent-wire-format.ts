/** First byte of a Confluent-framed value. @public */
export const CONFLUENT_MAGIC_BYTE = 0;

/** Bytes before the payload: magic byte + 4-byte big-endian schema id. @public */
export const CONFLUENT_HEADER_LENGTH = 5;

/**
 * Frames `payload` in the Confluent wire format: magic byte `0`, the schema id as a 4-byte
 * big-endian integer, then the serialized payload (Avro binary here). Java, Go, Python and .NET
 * Confluent serializers read and write this framing.
 *
 * @public
 */
export function encodeConfluentFrame(schemaId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(CONFLUENT_HEADER_LENGTH + payload.length);
  out[0] = CONFLUENT_MAGIC_BYTE;
  out.writeInt32BE(schemaId, 1);
  payload.copy(out, CONFLUENT_HEADER_LENGTH);
  return out;
}

/**
 * The schema id of a Confluent-framed value.
 *
 * @throws Error when `value` is too short or does not start with the magic byte.
 * @public
 */
export function confluentSchemaId(value: Buffer): number {
  if (value.length < CONFLUENT_HEADER_LENGTH)
    throw new Error(`the value is ${value.length} bytes long, shorter than the 5-byte Confluent header`);
  if (value[0] !== CONFLUENT_MAGIC_BYTE)
    throw new Error(
      `the value does not start with the Confluent magic byte 0 (got 0x${value[0]!.toString(16).padStart(2, '0')}): not written by a schema-registry serializer`,
    );
  return value.readInt32BE(1);
}

/**
 * The Avro side of the Avro vs JSON rows: the benchmark event with an Avro schema, in the Confluent
 * wire format through @gomes/schema-registry and a real schema registry (SCHEMA_REGISTRY_URL, started
 * by `pnpm bench`). Imported from the built package: @gomes/kafka cannot depend on it (it depends on
 * @gomes/kafka).
 */
import { AvroSchema, AvroSerializer, SchemaRegistryClient } from '../../../schema-registry/dist/index.js';
import { BenchOrderPlaced } from './gomes-kafka.js';
import type { KafkaConnection, KafkaPublisherChannel } from '@gomes/kafka';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { noopLogger } from '@gomes/core';

/** Avro schema of {@link BenchPayload} (same fields as the JSON payload). */
export const BENCH_AVRO_SCHEMA = {
  type: 'record' as const,
  name: 'BenchOrderPlaced',
  namespace: 'gomes.bench',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'seq', type: 'int' },
    { name: 'createdAt', type: 'string' },
    { name: 'currency', type: 'string' },
    {
      name: 'lines',
      type: {
        type: 'array' as const,
        items: {
          type: 'record' as const,
          name: 'Line',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'quantity', type: 'int' },
            { name: 'unitPrice', type: 'double' },
          ],
        },
      },
    },
    { name: 'note', type: 'string' },
  ],
};

/** A client of the registry named by the environment (`pnpm bench` starts one). */
export function benchRegistry(): SchemaRegistryClient {
  const url = process.env['SCHEMA_REGISTRY_URL'];
  if (!url)
    throw new Error(
      'the avro scenario needs a schema registry: run `pnpm bench` (it starts one) or set SCHEMA_REGISTRY_URL',
    );
  const username = process.env['SCHEMA_REGISTRY_USERNAME'];
  return new SchemaRegistryClient({
    url,
    ...(username ? { auth: { username, password: process.env['SCHEMA_REGISTRY_PASSWORD'] ?? '' } } : {}),
  });
}

// The benchmark event gets its Avro schema here (decorators only record metadata), so the JSON runs
// use the very same class.
AvroSchema(BENCH_AVRO_SCHEMA)(BenchOrderPlaced);

/** An Avro serializer for the benchmark event (registers its schema on first use: development preset). */
export function benchAvroSerializer(registry: SchemaRegistryClient): AvroSerializer {
  return new AvroSerializer(registry, { actions: [BenchOrderPlaced], preset: 'development' });
}

/** A publisher channel with gomes' defaults writing Avro. */
export async function avroPublisher(
  connection: KafkaConnection,
  topic: string,
  serializer: AvroSerializer,
  mode: 'sync' | 'async',
): Promise<KafkaPublisherChannel> {
  const builder = new KafkaPublisherChannelBuilder('kafka', topic).withSerializer(serializer);
  return (mode === 'async' ? builder.withAsync(true) : builder).build({ connection, logger: noopLogger });
}

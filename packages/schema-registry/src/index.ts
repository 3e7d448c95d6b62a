/**
 * `@gomes/schema-registry`: Avro in the Confluent wire format with a Confluent-compatible schema
 * registry, for the Kafka channels of `@gomes/kafka` (`withSerializer(new AvroSerializer(...))`).
 *
 * @packageDocumentation
 */
export { AvroSchema, getAvroSchema, type AvroSchemaDefinition } from './avro-schema.js';
export { AvroSerializer, AVRO_CONTENT_TYPE } from './avro-serializer.js';
export {
  AVRO_SERIALIZER_PRESETS,
  DEFAULT_AVRO_SERIALIZER_OPTIONS,
  type AvroSerializerInput,
  type AvroSerializerOptions,
  type AvroSerializerPreset,
} from './avro-serializer-options.js';
export {
  CONFLUENT_HEADER_LENGTH,
  CONFLUENT_MAGIC_BYTE,
  confluentSchemaId,
  encodeConfluentFrame,
} from './confluent-wire-format.js';
export {
  SchemaRegistryClient,
  type CompatibilityLevel,
  type CompatibilityResult,
  type RegisteredSchema,
  type SchemaType,
  type SubjectVersion,
} from './schema-registry-client.js';
export {
  DEFAULT_SCHEMA_REGISTRY_OPTIONS,
  resolveSchemaRegistryOptions,
  type SchemaRegistryAuth,
  type SchemaRegistryOptions,
  type SchemaRegistryTlsOptions,
} from './schema-registry-options.js';
export {
  subjectName,
  type SubjectNameFn,
  type SubjectNameInput,
  type SubjectNameStrategy,
} from './subject-name-strategy.js';

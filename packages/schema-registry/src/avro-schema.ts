import 'reflect-metadata';
import avsc from 'avsc';

/**
 * An Avro schema as gomes accepts it: the schema object, its JSON text, or an `avsc` Type.
 *
 * @public
 */
export type AvroSchemaDefinition = avsc.Schema | string | avsc.Type;

const AVRO_SCHEMA_KEY = Symbol.for('@gomes/schema-registry:avro-schema');

/**
 * Attaches an Avro schema to an action class (`@Command` / `@Query` / `@Event`): the writer schema
 * of its records on publish, the reader schema on consume. Only records metadata; an
 * {@link AvroSerializer} reads it.
 *
 * @example
 * ```ts
 * @Event('orderPlaced')
 * @AvroSchema({
 *   type: 'record', name: 'OrderPlaced', namespace: 'com.acme.orders',
 *   fields: [{ name: 'orderId', type: 'string' }, { name: 'quantity', type: 'int', default: 1 }],
 * })
 * class OrderPlaced { orderId!: string; quantity!: number; }
 * ```
 * @public
 */
export function AvroSchema(schema: AvroSchemaDefinition): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(AVRO_SCHEMA_KEY, schema, target);
  };
}

/** The schema attached with {@link AvroSchema} to `target` (own, not inherited), or `undefined`. @public */
export function getAvroSchema(target: object): AvroSchemaDefinition | undefined {
  return Reflect.getOwnMetadata(AVRO_SCHEMA_KEY, target) as AvroSchemaDefinition | undefined;
}

/** A parsed schema: the avsc type, the text registered, the full name of a named type. @internal */
export interface ParsedAvroSchema {
  readonly type: avsc.Type;
  /** The JSON text sent to the registry (defaults and docs kept). */
  readonly text: string;
  /** Full name (`namespace.Name`) of a record, enum or fixed; `undefined` for other types. */
  readonly fullName: string | undefined;
}

/**
 * Parses a schema definition (or registry text).
 *
 * @throws Error with avsc's reason when it is not a valid Avro schema.
 * @internal
 */
export function parseAvroSchema(definition: AvroSchemaDefinition): ParsedAvroSchema {
  let schema: avsc.Schema;
  if (typeof definition === 'string') schema = JSON.parse(definition) as avsc.Schema;
  else if (avsc.Type.isType(definition)) schema = (definition as avsc.Type).schema({ exportAttrs: true });
  else schema = definition;
  const type = avsc.Type.forSchema(schema);
  return {
    type,
    text: typeof definition === 'string' ? definition : JSON.stringify(schema),
    fullName: type.name,
  };
}

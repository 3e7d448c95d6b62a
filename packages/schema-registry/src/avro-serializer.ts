import { GomesError, MessageHeaders, type ActionClass, type Message } from '@gomes/core';
import type { MessageSerializer, SerializationContext, SerializerPreflightContext } from '@gomes/kafka';
import type avsc from 'avsc';
import { parseAvroSchema } from './avro-schema.js';
import {
  readActionSchema,
  resolveAvroSerializerOptions,
  type ActionSchema,
  type AvroSerializerInput,
  type AvroSerializerOptions,
} from './avro-serializer-options.js';
import { confluentSchemaId, CONFLUENT_HEADER_LENGTH, encodeConfluentFrame } from './confluent-wire-format.js';
import { cannotRead } from './schema-compatibility.js';
import type { SchemaRegistryClient } from './schema-registry-client.js';
import { SchemaPreflight } from './schema-preflight.js';
import { subjectName } from './subject-name-strategy.js';

/** The schema a record is written with on a topic. @internal */
export interface Writer {
  readonly id: number;
  readonly type: avsc.Type;
}

/** How records of one writer schema id are read as one action (`same`: reader = writer). */
type ReadPlan = { readonly kind: 'same' } | { readonly kind: 'resolve'; readonly resolver: avsc.Resolver };

/** An action's schema with what was learnt about it: writer per topic, read plans per writer id. */
interface Entry extends ActionSchema {
  readonly writers: Map<string, Writer>;
  readonly pendingWriters: Map<string, Promise<void>>;
  readonly readPlans: Map<number, ReadPlan | Error>;
}

/** Content type written to the `contentType` header. @public */
export const AVRO_CONTENT_TYPE = 'application/vnd.confluent.avro';

/**
 * Avro in the Confluent wire format (magic byte `0`, 4-byte schema id, Avro binary), with schemas in
 * a Confluent-compatible registry, so gomes services share topics with Java, Go, Python and .NET
 * services using Confluent's serializers.
 *
 * - **Publish:** the writer schema is the action's `@AvroSchema` (found by the message's `route`,
 *   else the payload's class) or, for a class without one, the latest schema of its subject. Its id
 *   is looked up (production) or registered (`autoRegister`, development preset) once per topic,
 *   then cached: later sends encode synchronously.
 * - **Consume:** the writer schema comes from the registry by the record's schema id (cached); the
 *   reader schema is the action's `@AvroSchema`, so a consumer on v2 reads v1 records (v2 defaults
 *   applied) and one on v1 reads v2 records (new fields skipped), by Avro schema resolution.
 *   Without a reader schema the record is read with the writer's.
 * - **Errors:** a value that is not Confluent-framed Avro, an unknown schema id, or a writer schema
 *   the reader cannot read make the record undecodable: it is dead-lettered (not retried). A registry
 *   that does not answer is retriable: the partition waits and retries.
 * - **start():** see {@link AvroSerializerOptions.checkAtStart}.
 *
 * Use one serializer per topic, or per set of topics carrying the same actions: its `actions` are
 * checked against every topic it is attached to. Record keys stay strings (the partition key).
 *
 * @example
 * ```ts
 * const registry = new SchemaRegistryClient({ url: 'http://localhost:8081' });
 * const avro = new AvroSerializer(registry, { actions: [OrderPlaced], preset: 'development' });
 * gomes.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', 'orders').withSerializer(avro));
 * gomes.addConsumerChannel(new KafkaConsumerChannelBuilder('kafka', 'orders', 'billing').withSerializer(avro));
 * ```
 * @public
 */
export class AvroSerializer implements MessageSerializer {
  /** @inheritDoc */
  readonly contentType = AVRO_CONTENT_TYPE;
  /** The resolved options. */
  readonly options: AvroSerializerOptions;
  /** The registry client. */
  readonly registry: SchemaRegistryClient;
  readonly #byRoute = new Map<string, Entry>();
  readonly #byClass = new Map<ActionClass, Entry | undefined>();
  /** Per topic: messages of no known action are written with the subject's latest schema. */
  readonly #byTopic = new Map<string, Entry>();
  readonly #writerTypes = new Map<number, avsc.Type>();
  readonly #pendingIds = new Map<number, Promise<void>>();

  /** @throws ConfigurationError listing every invalid option or schema. */
  constructor(registry: SchemaRegistryClient, input: AvroSerializerInput = {}) {
    const { options, actions } = resolveAvroSerializerOptions(input);
    this.options = options;
    this.registry = registry;
    for (const action of actions) this.#add(action);
  }

  // ----- publish

  /** @inheritDoc */
  prepareSerialize(message: Message, context: SerializationContext): Promise<void> | undefined {
    if (message.payload === null) return undefined;
    const entry = this.#entryFor(message, context.topic);
    if (entry.writers.has(context.topic)) return undefined;
    let pending = entry.pendingWriters.get(context.topic);
    if (pending === undefined) {
      pending = (async () => {
        entry.writers.set(context.topic, await this.#resolveWriter(entry, context.topic));
      })().finally(() => entry.pendingWriters.delete(context.topic));
      entry.pendingWriters.set(context.topic, pending);
    }
    return pending;
  }

  /** @inheritDoc */
  serialize(message: Message, context?: SerializationContext): Buffer | null {
    const payload = message.payload;
    if (payload === null) return null;
    if (context === undefined)
      throw new Error('the Avro serializer needs the topic (a serialization context)');
    const entry = this.#entryFor(message, context.topic);
    const writer = entry.writers.get(context.topic);
    if (writer === undefined)
      throw new Error(
        `no writer schema is loaded for ${describe(entry)} on topic "${context.topic}" (prepareSerialize was not awaited)`,
      );
    let body: Buffer;
    try {
      body = writer.type.toBuffer(payload);
    } catch (error) {
      throw new Error(
        `the payload of ${describe(entry)} does not match its Avro schema: ${invalidPaths(writer.type, payload, error)}`,
      );
    }
    return encodeConfluentFrame(writer.id, body);
  }

  // ----- consume

  /** @inheritDoc */
  prepareDeserialize(value: Buffer | null): Promise<void> | undefined {
    if (value === null || value.length < CONFLUENT_HEADER_LENGTH || value[0] !== 0) return undefined; // deserialize says why
    const id = value.readInt32BE(1);
    if (this.#writerTypes.has(id)) return undefined;
    let pending = this.#pendingIds.get(id);
    if (pending === undefined) {
      pending = (async () => {
        const registered = await this.registry.schemaById(id);
        if (registered.schemaType !== 'AVRO')
          throw new GomesError(
            'SCHEMA_INCOMPATIBLE',
            `Schema id ${id} is a ${registered.schemaType} schema, not Avro`,
          );
        this.#writerTypes.set(id, parseRegistered(id, registered.schema));
      })().finally(() => this.#pendingIds.delete(id));
      this.#pendingIds.set(id, pending);
    }
    return pending;
  }

  /** @inheritDoc */
  deserialize(value: Buffer | null, headers: Readonly<Record<string, string>>): unknown {
    if (value === null) return null;
    const id = confluentSchemaId(value);
    const writer = this.#writerTypes.get(id);
    if (writer === undefined)
      throw new Error(`schema id ${id} is not loaded (prepareDeserialize was not awaited)`);
    const body = value.subarray(CONFLUENT_HEADER_LENGTH);
    const route = headers[MessageHeaders.ROUTE];
    const entry = route === undefined ? undefined : this.#byRoute.get(route);
    const reader = entry?.schema?.type;
    if (entry === undefined || reader === undefined) return writer.fromBuffer(body);
    let plan = entry.readPlans.get(id);
    if (plan === undefined) {
      const why = reader.equals(writer) ? undefined : cannotRead(reader, writer);
      plan =
        why !== undefined
          ? new GomesError(
              'SCHEMA_INCOMPATIBLE',
              `the record was written with schema id ${id} (${writer.name ?? writer.typeName}), which ${describe(entry)} cannot read: ${why}`,
              { details: { schemaId: id, action: entry.actionName } },
            )
          : reader.equals(writer)
            ? { kind: 'same' }
            : { kind: 'resolve', resolver: reader.createResolver(writer) };
      entry.readPlans.set(id, plan);
    }
    if (plan instanceof Error) throw plan;
    return plan.kind === 'same' ? reader.fromBuffer(body) : reader.fromBuffer(body, plan.resolver);
  }

  // ----- start()

  /** @inheritDoc */
  async preflight(context: SerializerPreflightContext): Promise<string[]> {
    if (!this.options.checkAtStart) return [];
    const check = new SchemaPreflight(this.registry, this.options, context);
    const problems: string[] = [];
    for (const topic of context.topics) {
      for (const entry of this.#byRoute.values()) {
        const result = await check.run(entry, topic);
        if (typeof result === 'string') problems.push(result);
        else if (result !== undefined) {
          if (context.role === 'publisher') entry.writers.set(topic, result);
          else this.#writerTypes.set(result.id, result.type);
        }
      }
    }
    return [...new Set(problems)];
  }

  // ----- internals

  #add(schema: ActionSchema): Entry {
    const entry: Entry = { ...schema, writers: new Map(), pendingWriters: new Map(), readPlans: new Map() };
    this.#byRoute.set(entry.actionName, entry);
    if (entry.action) this.#byClass.set(entry.action, entry);
    return entry;
  }

  /** The entry of a message: its route, else its payload's class, else the topic's latest schema. */
  #entryFor(message: Message, topic: string): Entry {
    const route = message.route;
    const byRoute = route === undefined ? undefined : this.#byRoute.get(route);
    if (byRoute) return byRoute;
    const payload = message.payload;
    const ctor =
      typeof payload === 'object' && payload !== null ? (payload.constructor as ActionClass) : undefined;
    if (ctor !== undefined && ctor !== Object) {
      if (!this.#byClass.has(ctor)) {
        const found = readActionSchema(ctor, []);
        this.#byClass.set(ctor, found && !this.#byRoute.has(found.actionName) ? this.#add(found) : undefined);
      }
      const byClass = this.#byClass.get(ctor);
      if (byClass) return byClass;
    }
    let byTopic = this.#byTopic.get(topic);
    if (byTopic === undefined) {
      byTopic = {
        actionName: route ?? '',
        action: undefined,
        schema: undefined,
        writers: new Map(),
        pendingWriters: new Map(),
        readPlans: new Map(),
      };
      this.#byTopic.set(topic, byTopic);
    }
    return byTopic;
  }

  async #resolveWriter(entry: Entry, topic: string): Promise<Writer> {
    const subject = subjectName(this.options.subjectNameStrategy, {
      topic,
      recordName: entry.schema?.fullName,
    });
    const schema = entry.schema;
    if (schema === undefined) {
      const latest = await this.registry.latest(subject);
      if (!latest)
        throw new GomesError(
          'SCHEMA_NOT_FOUND',
          `No schema is registered under subject "${subject}" and ${describe(entry)} has no @AvroSchema to write with`,
          { details: { subject } },
        );
      return { id: latest.id, type: parseRegistered(latest.id, latest.schema) };
    }
    if (this.options.autoRegister)
      return { id: await this.registry.register(subject, schema.text), type: schema.type };
    const found = await this.registry.lookup(subject, schema.text);
    if (!found)
      throw new GomesError(
        'SCHEMA_NOT_FOUND',
        `Schema ${schema.fullName ?? schema.type.typeName} of ${describe(entry)} is not registered under subject "${subject}": register it (a deployment step) or use the development preset (autoRegister)`,
        { details: { subject } },
      );
    return { id: found.id, type: schema.type };
  }
}

/** `action "orderPlaced"`, or what stands for a message of no known action. */
export function describe(entry: ActionSchema): string {
  return entry.actionName !== '' ? `action "${entry.actionName}"` : 'a message of no registered action';
}

function parseRegistered(id: number, text: string): avsc.Type {
  try {
    return parseAvroSchema(text).type;
  } catch (error) {
    throw new GomesError(
      'SCHEMA_INCOMPATIBLE',
      `Schema id ${id} from the registry is not a valid Avro schema: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** What a value is, without quoting it (payloads may hold personal data). */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** The fields of `value` that do not match `type` (e.g. `quantity: expected "int", got a string`). */
function invalidPaths(type: avsc.Type, value: unknown, error: unknown): string {
  const found: string[] = [];
  type.isValid(value, {
    errorHook: (path: string[], v: unknown, t: avsc.Type) => {
      if (found.length < 5)
        found.push(
          `${path.join('.') || '(payload)'}: expected ${JSON.stringify(t.schema())}, got ${kindOf(v)}`,
        );
    },
  });
  return found.length > 0 ? found.join('; ') : error instanceof Error ? error.message : String(error);
}

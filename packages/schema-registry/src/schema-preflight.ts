import type { SerializerPreflightContext } from '@gomes/kafka';
import type avsc from 'avsc';
import type { ActionSchema, AvroSerializerOptions } from './avro-serializer-options.js';
import type { Writer } from './avro-serializer.js';
import { parseAvroSchema } from './avro-schema.js';
import { cannotRead, explainIncompatibility } from './schema-compatibility.js';
import type { SchemaRegistryClient } from './schema-registry-client.js';
import { subjectName } from './subject-name-strategy.js';

/**
 * The start-up check of one action's schema on one topic, as a writer (publisher) or a reader
 * (consumer). Resolves with what it learnt (the writer schema and id, to cache), a problem (one
 * sentence naming the channel, the schema, the subject and why), or nothing.
 *
 * - Publisher, production: the schema must be registered under its subject (else: not registered,
 *   plus the registry's incompatibility verdict when it would refuse it).
 * - Publisher, `autoRegister`: the schema must be compatible with the subject (reason explained
 *   under the subject's level), then it is registered.
 * - Publisher, class without schema: the subject must have a version (written with its latest).
 * - Consumer: the reader schema must be able to read the subject's latest version.
 *
 * @internal
 */
export class SchemaPreflight {
  readonly #registry: SchemaRegistryClient;
  readonly #options: AvroSerializerOptions;
  readonly #context: SerializerPreflightContext;

  constructor(
    registry: SchemaRegistryClient,
    options: AvroSerializerOptions,
    context: SerializerPreflightContext,
  ) {
    this.#registry = registry;
    this.#options = options;
    this.#context = context;
  }

  async run(entry: ActionSchema, topic: string): Promise<Writer | string | undefined> {
    const schema = entry.schema;
    let subject: string;
    try {
      subject = subjectName(this.#options.subjectNameStrategy, { topic, recordName: schema?.fullName });
    } catch (error) {
      return this.#problem(`action "${entry.actionName}" on topic "${topic}": ${message(error)}`);
    }
    const what = schema
      ? `schema ${schema.fullName ?? schema.type.typeName} of action "${entry.actionName}"`
      : `action "${entry.actionName}"`;
    try {
      if (this.#context.role === 'consumer') {
        if (!schema) return undefined; // read with each record's writer schema
        const latest = await this.#registry.latest(subject);
        if (!latest) return undefined; // nothing written yet
        const writerType = parseAvroSchema(latest.schema).type;
        const why = cannotRead(schema.type, writerType);
        if (why)
          return this.#problem(
            `${what} cannot read the latest version (${latest.version}, id ${latest.id}) of subject "${subject}": ${why}`,
          );
        return { id: latest.id, type: writerType };
      }
      if (!schema) {
        const latest = await this.#registry.latest(subject);
        if (!latest)
          return this.#problem(
            `${what} has no @AvroSchema and no schema is registered under subject "${subject}" to write it with`,
          );
        return { id: latest.id, type: parseAvroSchema(latest.schema).type };
      }
      if (!this.#options.autoRegister) {
        const found = await this.#registry.lookup(subject, schema.text);
        if (found) return { id: found.id, type: schema.type };
        const refusal = await this.#incompatibility(subject, schema.text, schema.type);
        return this.#problem(
          `${what} is not registered under subject "${subject}"${refusal ? ` (and the registry would refuse it: ${refusal})` : ''}; register it before deploying, or use the development preset, which registers at start`,
        );
      }
      const refusal = await this.#incompatibility(subject, schema.text, schema.type);
      if (refusal) return this.#problem(`${what} is incompatible with subject "${subject}": ${refusal}`);
      return { id: await this.#registry.register(subject, schema.text), type: schema.type };
    } catch (error) {
      return this.#problem(`${what} on subject "${subject}": ${message(error)}`);
    }
  }

  /** Why the registry refuses `text` under `subject`, or `undefined` when it accepts it. */
  async #incompatibility(subject: string, text: string, type: avsc.Type): Promise<string | undefined> {
    const result = await this.#registry.checkCompatibility(subject, text);
    if (result.compatible) return undefined;
    const [level, latest] = await Promise.all([
      this.#registry.compatibility(subject),
      this.#registry.latest(subject),
    ]);
    const reason =
      result.messages.length > 0
        ? result.messages.join('; ')
        : latest
          ? explainIncompatibility(level, type, parseAvroSchema(latest.schema).type)
          : undefined;
    const where = latest
      ? `compatibility ${level}, latest version ${latest.version} (id ${latest.id})`
      : `compatibility ${level}`;
    return `${where}: ${reason ?? 'the registry reports it incompatible with an earlier version'}`;
  }

  #problem(text: string): string {
    return `${this.#context.channel}: ${text}`;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

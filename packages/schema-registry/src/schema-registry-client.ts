import { GomesError } from '@gomes/core';
import { RegistryErrorCodes, RegistryHttp, registryErrorOf } from './registry-http.js';
import { resolveSchemaRegistryOptions, type SchemaRegistryOptions } from './schema-registry-options.js';

/** Schema formats of the Confluent API. @public */
export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';

/** Compatibility levels of the Confluent API. @public */
export type CompatibilityLevel =
  'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

/** A schema known to the registry by its global id. @public */
export interface RegisteredSchema {
  /** Global schema id (what the Confluent wire format carries). */
  readonly id: number;
  /** The schema text. */
  readonly schema: string;
  /** Its format. */
  readonly schemaType: SchemaType;
}

/** A version of a subject. @public */
export interface SubjectVersion extends RegisteredSchema {
  /** The subject. */
  readonly subject: string;
  /** Version number within the subject. */
  readonly version: number;
}

/** Answer of a compatibility check. @public */
export interface CompatibilityResult {
  /** Whether the registry would accept the schema as the subject's next version. */
  readonly compatible: boolean;
  /** Reasons given by the registry (with `verbose=true`; some registries give none). */
  readonly messages: readonly string[];
}

interface SchemaAnswer {
  schema?: string;
  schemaType?: SchemaType;
}
interface VersionAnswer extends SchemaAnswer {
  subject?: string;
  id?: number;
  version?: number;
}

/**
 * A client of the Confluent schema registry REST API (v7), which Confluent Schema Registry,
 * Apicurio (`/apis/ccompat/v7`), Karapace and Redpanda serve: register a schema, look one up by id
 * or under a subject, the latest version of a subject, compatibility checks and levels. HTTP basic
 * auth and TLS (private CA, mutual TLS) are options.
 *
 * Caching: schema ids and schemas by id never change, so `register`, `lookup` and `schemaById` are
 * cached for the life of the client (concurrent calls share one request; failures are not cached).
 * `latest`, `checkCompatibility` and `compatibility` always ask the registry.
 *
 * Errors are GomesErrors: `SCHEMA_NOT_FOUND` for an unknown id, `SCHEMA_INCOMPATIBLE` when the
 * registry refuses a registration (HTTP 409), `SCHEMA_REGISTRY_FAILED` otherwise — retriable for
 * network failures, timeouts and 5xx, not for refused credentials or requests.
 *
 * @example
 * ```ts
 * const registry = new SchemaRegistryClient({
 *   url: 'https://registry.example.com',
 *   auth: { username: 'svc-orders', password: process.env.REGISTRY_PASSWORD! },
 * });
 * const id = await registry.register('orders-value', JSON.stringify(orderPlacedSchema));
 * ```
 * @public
 */
export class SchemaRegistryClient {
  /** The resolved options. */
  readonly options: SchemaRegistryOptions;
  readonly #http: RegistryHttp;
  readonly #ids = new Map<string, Promise<number>>();
  readonly #byId = new Map<number, Promise<RegisteredSchema>>();

  /** @throws ConfigurationError listing every invalid option. */
  constructor(options: Partial<SchemaRegistryOptions> & { url: string }) {
    this.options = resolveSchemaRegistryOptions(options);
    this.#http = new RegistryHttp(this.options);
  }

  /** The registry base URL. */
  get url(): string {
    return this.#http.url;
  }

  /**
   * Registers `schema` under `subject` (a no-op answering the existing id when it is registered
   * already) and resolves with its global id.
   *
   * @throws GomesError `SCHEMA_INCOMPATIBLE` when the subject's compatibility rule refuses it.
   */
  async register(subject: string, schema: string, schemaType: SchemaType = 'AVRO'): Promise<number> {
    return this.#cachedId(`${subject}\u0000${schemaType}\u0000${schema}`, async () => {
      try {
        const answer = await this.#http.request<{ id?: number }>(
          'POST',
          `subjects/${encodeURIComponent(subject)}/versions`,
          withType({ schema }, schemaType),
        );
        return requireId(answer.id, `register under ${subject}`);
      } catch (error) {
        const registry = registryErrorOf(error);
        if (registry?.status === 409) {
          throw new GomesError(
            'SCHEMA_INCOMPATIBLE',
            `The registry refused the schema under subject "${subject}": ${registry.message}`,
            { cause: error, details: { subject } },
          );
        }
        throw error;
      }
    });
  }

  /**
   * The version of `subject` whose schema is `schema`, or `undefined` when the subject does not
   * exist or has no such version. Caches the id when found.
   */
  async lookup(
    subject: string,
    schema: string,
    schemaType: SchemaType = 'AVRO',
  ): Promise<SubjectVersion | undefined> {
    try {
      const answer = await this.#http.request<VersionAnswer>(
        'POST',
        `subjects/${encodeURIComponent(subject)}`,
        withType({ schema }, schemaType),
      );
      const version = toVersion(answer, subject, schemaType);
      this.#ids.set(`${subject}\u0000${schemaType}\u0000${schema}`, Promise.resolve(version.id));
      return version;
    } catch (error) {
      if (isNotFound(error, RegistryErrorCodes.SUBJECT_NOT_FOUND, RegistryErrorCodes.SCHEMA_NOT_FOUND))
        return undefined;
      throw error;
    }
  }

  /**
   * The schema with global id `id` (cached).
   *
   * @throws GomesError `SCHEMA_NOT_FOUND` (not retriable) when the registry has no such id.
   */
  async schemaById(id: number): Promise<RegisteredSchema> {
    const cached = this.#byId.get(id);
    if (cached) return cached;
    const pending = (async () => {
      try {
        const answer = await this.#http.request<SchemaAnswer>('GET', `schemas/ids/${id}`);
        if (typeof answer?.schema !== 'string')
          throw new GomesError(
            'SCHEMA_REGISTRY_FAILED',
            `The registry answered schema id ${id} without a schema`,
          );
        return Object.freeze({ id, schema: answer.schema, schemaType: answer.schemaType ?? 'AVRO' });
      } catch (error) {
        if (isNotFound(error)) {
          throw new GomesError('SCHEMA_NOT_FOUND', `Schema id ${id} is not in the registry (${this.url})`, {
            cause: error,
            details: { schemaId: id },
          });
        }
        throw error;
      }
    })();
    this.#byId.set(id, pending);
    pending.catch(() => this.#byId.delete(id));
    return pending;
  }

  /** The latest version of `subject`, or `undefined` when the subject does not exist. Not cached. */
  async latest(subject: string): Promise<SubjectVersion | undefined> {
    try {
      const answer = await this.#http.request<VersionAnswer>(
        'GET',
        `subjects/${encodeURIComponent(subject)}/versions/latest`,
      );
      const version = toVersion(answer, subject, 'AVRO');
      this.#byId.set(
        version.id,
        Promise.resolve(
          Object.freeze({ id: version.id, schema: version.schema, schemaType: version.schemaType }),
        ),
      );
      return version;
    } catch (error) {
      if (isNotFound(error, RegistryErrorCodes.SUBJECT_NOT_FOUND, RegistryErrorCodes.VERSION_NOT_FOUND))
        return undefined;
      throw error;
    }
  }

  /**
   * Whether `schema` could be registered as the next version of `subject` under its compatibility
   * level (checked against the latest version). A subject that does not exist accepts anything.
   */
  async checkCompatibility(
    subject: string,
    schema: string,
    schemaType: SchemaType = 'AVRO',
  ): Promise<CompatibilityResult> {
    try {
      const answer = await this.#http.request<{ is_compatible?: boolean; messages?: unknown }>(
        'POST',
        `compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`,
        withType({ schema }, schemaType),
      );
      const messages = Array.isArray(answer?.messages) ? answer.messages.map(String) : [];
      return { compatible: answer?.is_compatible === true, messages };
    } catch (error) {
      if (isNotFound(error, RegistryErrorCodes.SUBJECT_NOT_FOUND, RegistryErrorCodes.VERSION_NOT_FOUND))
        return { compatible: true, messages: [] };
      throw error;
    }
  }

  /** The compatibility level of `subject` (its own, else the global one), or the global level. */
  async compatibility(subject?: string): Promise<CompatibilityLevel> {
    const read = async (path: string): Promise<CompatibilityLevel> => {
      const answer = await this.#http.request<{
        compatibilityLevel?: CompatibilityLevel;
        compatibility?: CompatibilityLevel;
      }>('GET', path);
      const level = answer?.compatibilityLevel ?? answer?.compatibility;
      if (level === undefined)
        throw new GomesError('SCHEMA_REGISTRY_FAILED', `The registry answered ${path} without a level`);
      return level;
    };
    if (subject === undefined) return read('config');
    try {
      return await read(`config/${encodeURIComponent(subject)}?defaultToGlobal=true`);
    } catch (error) {
      if (isNotFound(error)) return read('config');
      throw error;
    }
  }

  /** Sets the compatibility level of `subject`, or the global level when `subject` is omitted. */
  async setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    await this.#http.request(
      'PUT',
      subject === undefined ? 'config' : `config/${encodeURIComponent(subject)}`,
      { compatibility: level },
    );
  }

  /** Closes idle connections (pending requests finish). */
  async close(): Promise<void> {
    this.#http.close();
    return Promise.resolve();
  }

  async #cachedId(key: string, load: () => Promise<number>): Promise<number> {
    const cached = this.#ids.get(key);
    if (cached) return cached;
    const pending = load();
    this.#ids.set(key, pending);
    pending.catch(() => this.#ids.delete(key));
    return pending;
  }
}

function withType(
  body: { schema: string },
  schemaType: SchemaType,
): { schema: string; schemaType?: SchemaType } {
  // Confluent defaults to AVRO and older registries reject an explicit schemaType.
  return schemaType === 'AVRO' ? body : { ...body, schemaType };
}

function requireId(id: unknown, what: string): number {
  if (typeof id !== 'number' || !Number.isInteger(id))
    throw new GomesError('SCHEMA_REGISTRY_FAILED', `The registry answered ${what} without a schema id`);
  return id;
}

function toVersion(answer: VersionAnswer, subject: string, schemaType: SchemaType): SubjectVersion {
  const id = requireId(answer?.id, `subject ${subject}`);
  return Object.freeze({
    subject: answer.subject ?? subject,
    id,
    version: typeof answer.version === 'number' ? answer.version : 0,
    schema: typeof answer.schema === 'string' ? answer.schema : '',
    schemaType: answer.schemaType ?? schemaType,
  });
}

/** A 404, optionally with one of the given Confluent error codes. */
function isNotFound(error: unknown, ...codes: number[]): boolean {
  const registry = registryErrorOf(error);
  if (registry?.status !== 404) return false;
  return codes.length === 0 || registry.errorCode === undefined || codes.includes(registry.errorCode);
}

import { GomesError } from '../errors/gomes-error.js';

/** `cleanup.policy` of a topic. @public */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/**
 * One topic declared once, provisioned at `start()` (see {@link TopicTemplates}).
 *
 * @public
 */
export interface TopicTemplate {
  /** Base name; the templates' prefix is put in front of it. */
  readonly name: string;
  /** Number of partitions. */
  readonly partitions: number;
  /** Replication factor. @default the preset's */
  readonly replicationFactor?: number;
  /** `cleanup.policy`. @default 'delete' */
  readonly cleanupPolicy?: CleanupPolicy;
  /** `retention.ms` (-1 = forever). @default the preset's, for topics whose policy includes delete */
  readonly retentionMs?: number;
  /** Any other topic configs (e.g. `{ 'max.message.bytes': '2097152' }`); strings, as the broker takes them. */
  readonly configs?: Readonly<Record<string, string>>;
}

/**
 * Defaults applied to every template that does not set them.
 *
 * @public
 */
export interface TopicPreset {
  /** For logs and reports. */
  readonly name: string;
  /** Replication factor. */
  readonly replicationFactor: number;
  /** `retention.ms` of topics whose cleanup policy includes delete; `undefined` = the broker's default. */
  readonly retentionMs: number | undefined;
  /** Configs put on every topic (a template's own configs win). */
  readonly configs: Readonly<Record<string, string>>;
}

/**
 * The built-in presets (DictaMesh's default vs production configuration):
 *
 * - `development`: replication factor 1, the broker's retention — a single local broker;
 * - `production`: replication factor 3, `min.insync.replicas` 2 (with `acks=all`, a write survives
 *   one broker loss), 30-day retention on delete topics.
 *
 * @public
 */
export const TopicPresets: Readonly<Record<'development' | 'production', TopicPreset>> = Object.freeze({
  development: Object.freeze({
    name: 'development',
    replicationFactor: 1,
    retentionMs: undefined,
    configs: Object.freeze({}),
  }),
  production: Object.freeze({
    name: 'production',
    replicationFactor: 3,
    retentionMs: 30 * 24 * 3600 * 1000,
    configs: Object.freeze({ 'min.insync.replicas': '2' }),
  }),
});

/** What to do when a declared topic exists with other settings. @public */
export type TopicMismatchPolicy = 'warn' | 'fail';

/** Input of {@link TopicTemplates.define}. @public */
export interface TopicTemplatesOptions {
  /** The topics. */
  readonly topics: readonly TopicTemplate[];
  /** Put in front of every name (e.g. `'dictamesh.'`). @default '' */
  readonly prefix?: string;
  /** Defaults for replication, retention and configs. @default 'development' */
  readonly preset?: 'development' | 'production' | TopicPreset;
  /**
   * An existing topic whose partitions, replication factor or configs differ from its declaration
   * is never changed: `warn` logs and reports it, `fail` also fails `start()`. @default 'warn'
   */
  readonly onMismatch?: TopicMismatchPolicy;
}

/**
 * A declared topic with the prefix and the preset applied: what a transport creates.
 *
 * @public
 */
export interface ResolvedTopic {
  /** Full name (prefix + base name). */
  readonly name: string;
  /** Name as declared. */
  readonly baseName: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Every config to set, `cleanup.policy` and `retention.ms` included. */
  readonly configs: Readonly<Record<string, string>>;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const POLICIES: readonly string[] = ['delete', 'compact', 'compact,delete'];

/**
 * Topics declared once — partitions, replication factor, `cleanup.policy`, `retention.ms` and any
 * other config — with a preset and a name prefix. Register them on a connection with
 * `gomes.addTopics(connectionName, templates)`: `start()` creates the missing ones and reports
 * (never changes) existing ones that differ. Builders refer to a topic by `templates.name(base)`.
 *
 * @example
 * ```ts
 * const topics = TopicTemplates.define({
 *   prefix: 'dictamesh.',
 *   preset: process.env.NODE_ENV === 'production' ? 'production' : 'development',
 *   topics: [
 *     { name: 'entity.changed', partitions: 12 },
 *     { name: 'schema.changed', partitions: 6, cleanupPolicy: 'compact' },
 *   ],
 * });
 * gomes.addTopics('kafka', topics).addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topics.name('entity.changed')));
 * ```
 * @public
 */
export class TopicTemplates {
  /** The name prefix. */
  readonly prefix: string;
  /** The preset applied. */
  readonly preset: TopicPreset;
  /** What `start()` does with a mismatch. */
  readonly onMismatch: TopicMismatchPolicy;
  /** The declarations as given. */
  readonly templates: readonly TopicTemplate[];
  readonly #problems: string[] = [];

  private constructor(options: TopicTemplatesOptions) {
    this.prefix = options.prefix ?? '';
    const preset = options.preset ?? 'development';
    if (typeof preset === 'string' && !(preset in TopicPresets)) {
      this.#problems.push(`unknown topic preset "${preset}" (use development, production or a TopicPreset)`);
    }
    this.preset =
      typeof preset === 'string'
        ? (TopicPresets[preset as 'development'] ?? TopicPresets.development)
        : preset;
    this.onMismatch = options.onMismatch ?? 'warn';
    this.templates = Object.freeze(
      (options.topics ?? []).map((t) => Object.freeze({ ...t, configs: Object.freeze({ ...t.configs }) })),
    );
  }

  /** Declares topics; problems are reported by {@link TopicTemplates.validate} (and `start()`). */
  static define(options: TopicTemplatesOptions): TopicTemplates {
    return new TopicTemplates(options);
  }

  /**
   * The full name of the declared topic `baseName`.
   *
   * @throws GomesError `GOMES_NOT_FOUND` when no template has that name.
   */
  name(baseName: string): string {
    if (!this.templates.some((t) => t.name === baseName)) {
      throw new GomesError('NOT_FOUND', `No topic template "${baseName}" is declared`, {
        details: { baseName, declared: this.templates.map((t) => t.name) },
      });
    }
    return this.prefix + baseName;
  }

  /** The topics to create: prefix, preset and defaults applied. */
  get topics(): readonly ResolvedTopic[] {
    return this.templates.map((t) => this.#resolve(t));
  }

  /** Every problem of the declarations (empty when valid). */
  validate(): string[] {
    const problems = [...this.#problems];
    const seen = new Set<string>();
    if (this.templates.length === 0) problems.push('no topic is declared');
    const p = this.preset;
    if (!Number.isInteger(p.replicationFactor) || p.replicationFactor < 1) {
      problems.push(`preset "${p.name}": replicationFactor must be an integer >= 1`);
    }
    for (const t of this.templates) {
      const full = this.prefix + String(t.name);
      const where = `topic "${full}"`;
      if (
        typeof t.name !== 'string' ||
        t.name === '' ||
        !TOPIC_NAME.test(full) ||
        full === '.' ||
        full === '..'
      ) {
        problems.push(`${where}: a topic name is 1-249 characters of a-z, A-Z, 0-9, '.', '_' and '-'`);
      }
      if (seen.has(full)) problems.push(`${where} is declared more than once`);
      seen.add(full);
      if (!Number.isInteger(t.partitions) || t.partitions < 1) {
        problems.push(`${where}: partitions must be an integer >= 1 (got ${String(t.partitions)})`);
      }
      if (
        t.replicationFactor !== undefined &&
        (!Number.isInteger(t.replicationFactor) || t.replicationFactor < 1)
      ) {
        problems.push(
          `${where}: replicationFactor must be an integer >= 1 (got ${String(t.replicationFactor)})`,
        );
      }
      if (t.cleanupPolicy !== undefined && !POLICIES.includes(t.cleanupPolicy)) {
        problems.push(
          `${where}: cleanupPolicy must be one of ${POLICIES.join(', ')} (got ${String(t.cleanupPolicy)})`,
        );
      }
      if (t.retentionMs !== undefined && (!Number.isInteger(t.retentionMs) || t.retentionMs < -1)) {
        problems.push(`${where}: retentionMs must be an integer >= -1 (got ${String(t.retentionMs)})`);
      }
      for (const [name, value] of Object.entries(t.configs ?? {})) {
        if (typeof value !== 'string') problems.push(`${where}: config "${name}" must be a string`);
      }
      if (t.cleanupPolicy !== undefined && t.configs?.['cleanup.policy'] !== undefined) {
        problems.push(`${where}: set cleanup.policy once (cleanupPolicy or configs, not both)`);
      }
      if (t.retentionMs !== undefined && t.configs?.['retention.ms'] !== undefined) {
        problems.push(`${where}: set retention.ms once (retentionMs or configs, not both)`);
      }
    }
    return problems;
  }

  #resolve(t: TopicTemplate): ResolvedTopic {
    const policy = t.cleanupPolicy ?? t.configs?.['cleanup.policy'] ?? 'delete';
    const retention = t.retentionMs ?? (policy.includes('delete') ? this.preset.retentionMs : undefined);
    return Object.freeze({
      name: this.prefix + t.name,
      baseName: t.name,
      partitions: t.partitions,
      replicationFactor: t.replicationFactor ?? this.preset.replicationFactor,
      configs: Object.freeze({
        ...this.preset.configs,
        'cleanup.policy': policy,
        ...(retention === undefined ? {} : { 'retention.ms': String(retention) }),
        ...t.configs,
      }),
    });
  }
}

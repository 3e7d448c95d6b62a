import { GomesError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { ResolvedTopic, TopicTemplates } from './topic-templates.js';

/**
 * A topic as the transport has it: partitions, replication factor (when the transport has one)
 * and the values of the configs asked for.
 *
 * @public
 */
export interface ExistingTopic {
  readonly partitions: number;
  readonly replicationFactor: number | undefined;
  readonly configs: Readonly<Record<string, string>>;
}

/**
 * What a connection offers to provision topics (`ChannelConnection.topicAdmin()`): the transport
 * part of `gomes.addTopics`. The comparison and the report are core's (`provisionTopics`).
 *
 * @public
 */
export interface TopicAdmin {
  /**
   * Settings the transport cannot honour (`replication.factor` and config names), reported as not
   * applied; `'*'` = every config. @default none
   */
  readonly unsupportedSettings?: readonly string[];
  /** The topics of `names` that exist, with the values of `configNames`. */
  describeTopics(
    names: readonly string[],
    configNames: readonly string[],
  ): Promise<ReadonlyMap<string, ExistingTopic>>;
  /** Creates `topics` (none of them exists). */
  createTopics(topics: readonly ResolvedTopic[]): Promise<void>;
}

/** One setting of an existing topic that differs from its declaration. @public */
export interface TopicDifference {
  /** `partitions`, `replication.factor` or a config name. */
  readonly setting: string;
  readonly declared: string;
  /** The broker's value (`(unset)` when it has none). */
  readonly actual: string;
}

/**
 * What provisioning found and did on one connection.
 *
 * @public
 */
export interface TopicProvisioningReport {
  /** The connection. */
  readonly connection: string;
  /** Topics created now. */
  readonly created: readonly string[];
  /** Topics that existed exactly as declared. */
  readonly matching: readonly string[];
  /** Topics that exist with other settings (left unchanged). */
  readonly mismatched: readonly {
    readonly topic: string;
    readonly differences: readonly TopicDifference[];
  }[];
  /** Declared settings the transport cannot honour, per topic (e.g. the in-memory transport's configs). */
  readonly notApplied: readonly { readonly topic: string; readonly settings: readonly string[] }[];
}

/** `cleanup.policy` values compare as sets ("delete,compact" = "compact,delete"). */
function normalise(setting: string, value: string): string {
  const v = value.trim();
  if (setting !== 'cleanup.policy') return v;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .sort()
    .join(',');
}

/**
 * Provisions `templates` through `admin`: creates every missing topic, compares existing ones with
 * their declaration (partitions, replication factor, each declared config) and reports the
 * differences — it never alters an existing topic. Mismatches are logged as warnings; with
 * `onMismatch: 'fail'` they make it throw.
 *
 * @throws GomesError `GOMES_TOPIC_PROVISIONING_FAILED` when creating a topic fails, or when topics
 * differ and `templates.onMismatch` is `fail` (the message lists every difference).
 * @public
 */
export async function provisionTopics(
  connection: string,
  admin: TopicAdmin,
  templates: TopicTemplates,
  logger: Logger,
): Promise<TopicProvisioningReport> {
  const topics = templates.topics;
  const unsupported = new Set(admin.unsupportedSettings ?? []);
  const allConfigs = unsupported.has('*');
  const configNames = [...new Set(topics.flatMap((t) => Object.keys(t.configs)))];
  const existing = await admin.describeTopics(
    topics.map((t) => t.name),
    configNames,
  );
  const missing = topics.filter((t) => !existing.has(t.name));
  if (missing.length > 0) {
    try {
      await admin.createTopics(missing);
    } catch (error) {
      throw new GomesError(
        'TOPIC_PROVISIONING_FAILED',
        `Creating topics ${missing.map((t) => `${t.name} (${t.partitions} partitions, replication factor ${t.replicationFactor})`).join(', ')} on "${connection}" failed: ${(error as Error).message}`,
        { cause: error, details: { connection, topics: missing.map((t) => t.name) } },
      );
    }
    logger.info('Topics created', {
      connection,
      preset: templates.preset.name,
      topics: missing.map(
        (t) => `${t.name} (${t.partitions} partitions, replication ${t.replicationFactor})`,
      ),
    });
  }
  const matching: string[] = [];
  const mismatched: { topic: string; differences: TopicDifference[] }[] = [];
  const notApplied: { topic: string; settings: string[] }[] = [];
  for (const t of topics) {
    const skipped = [
      ...(unsupported.has('replication.factor') ? ['replication.factor'] : []),
      ...Object.keys(t.configs).filter((c) => allConfigs || unsupported.has(c)),
    ];
    if (skipped.length > 0) notApplied.push({ topic: t.name, settings: skipped });
    const actual = existing.get(t.name);
    if (!actual) continue;
    const differences: TopicDifference[] = [];
    if (actual.partitions !== t.partitions) {
      differences.push({
        setting: 'partitions',
        declared: String(t.partitions),
        actual: String(actual.partitions),
      });
    }
    if (actual.replicationFactor !== undefined && actual.replicationFactor !== t.replicationFactor) {
      differences.push({
        setting: 'replication.factor',
        declared: String(t.replicationFactor),
        actual: String(actual.replicationFactor),
      });
    }
    for (const [name, declared] of Object.entries(t.configs)) {
      if (allConfigs || unsupported.has(name)) continue;
      const value = actual.configs[name];
      if (value === undefined || normalise(name, value) !== normalise(name, declared)) {
        differences.push({ setting: name, declared, actual: value ?? '(unset)' });
      }
    }
    if (differences.length === 0) matching.push(t.name);
    else mismatched.push({ topic: t.name, differences });
  }
  for (const m of mismatched) {
    logger.warn('Topic exists with other settings than declared; left unchanged', {
      connection,
      topic: m.topic,
      differences: m.differences.map((d) => `${d.setting}: declared ${d.declared}, broker has ${d.actual}`),
    });
  }
  const report: TopicProvisioningReport = {
    connection,
    created: missing.map((t) => t.name),
    matching,
    mismatched,
    notApplied,
  };
  if (mismatched.length > 0 && templates.onMismatch === 'fail') {
    const lines = mismatched.flatMap((m) =>
      m.differences.map((d) => `${m.topic}: ${d.setting} declared ${d.declared}, broker has ${d.actual}`),
    );
    throw new GomesError(
      'TOPIC_PROVISIONING_FAILED',
      `${mismatched.length} declared topic(s) on "${connection}" differ from the broker's (onMismatch: fail; nothing was changed):\n` +
        lines.map((l) => `  - ${l}`).join('\n'),
      { details: { report } },
    );
  }
  return report;
}

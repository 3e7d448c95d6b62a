/**
 * Example 09 — topic templates: DictaMesh's standard topics (docs/topics.md) on a real Kafka broker.
 *
 *   1. The catalog service declares the six standard topics once (prefix, development preset,
 *      partitions, a compacted `schema.changed`) and `start()` creates them before any channel is
 *      built; its publisher names its topic through the templates (`topics.name('entity.changed')`)
 *      and publishes one event there.
 *   2. A second service starts with declarations that drifted (more partitions, another cleanup
 *      policy, a retention): `start()` succeeds, logs a warning per differing topic and reports
 *      every difference in `gomes.topicReports()` — the topics are left as they are.
 *   3. The same drifted declarations with `onMismatch: 'fail'`: `start()` fails with
 *      GOMES_TOPIC_PROVISIONING_FAILED listing the differences; nothing is changed either way.
 *
 * Broker: KAFKA_BROKERS (comma-separated, default 127.0.0.1:19092). Driver: GOMES_KAFKA_DRIVER
 * (`kafkajs`, the default, or `platformatic`), read here and passed as the connection's `driver`
 * option. The topic prefix carries a run id, so every run starts from a cluster without them.
 *
 * Run: pnpm example:topics   (= pnpm build && node scripts/run-with-kafka.mjs node examples/09-topic-templates/dist/main.js)
 */
import 'reflect-metadata';
import { IsString } from 'class-validator';
import {
  Event,
  TopicTemplates,
  createGomes,
  isGomesError,
  type Gomes,
  type LogFields,
  type Logger,
  type TopicProvisioningReport,
  type TopicTemplate,
} from '@gomes/core';
import { KafkaConnection, KafkaPublisherChannelBuilder, type KafkaDriverName } from '@gomes/kafka';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092')
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b !== '');
const DRIVER = kafkaDriver(process.env['GOMES_KAFKA_DRIVER']);
const RUN = Date.now().toString(36);
const PREFIX = `dictamesh.${RUN}.`;

/** DictaMesh's standard topics (the events package's "Standard Topics"), as docs/topics.md declares them. */
const STANDARD_TOPICS: readonly TopicTemplate[] = [
  { name: 'entity.changed', partitions: 12 },
  { name: 'relationship.changed', partitions: 12 },
  { name: 'schema.changed', partitions: 6, cleanupPolicy: 'compact' },
  { name: 'cache.invalidation', partitions: 12 },
  { name: 'system.events', partitions: 3 },
  { name: 'dead-letter', partitions: 6 },
];

/** The same topics as a later service declares them: three settings drifted. */
const DRIFTED_TOPICS: readonly TopicTemplate[] = STANDARD_TOPICS.map((t) => {
  if (t.name === 'entity.changed') return { ...t, partitions: 24 };
  if (t.name === 'schema.changed') return { ...t, cleanupPolicy: 'delete' };
  if (t.name === 'system.events') return { ...t, retentionMs: 24 * 3600_000 }; // broker default: 7 days
  return t;
});

@Event('entityChanged')
class EntityChanged {
  @IsString() entityId: string;
  @IsString() change: string;
  constructor(entityId: string, change: string) {
    this.entityId = entityId;
    this.change = change;
  }
}

// ---------------------------------------------------------------- helpers

/** Prints gomes' warnings (a differing topic is logged as one); the rest stays quiet. */
function warningsLogger(bindings: LogFields = {}): Logger {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (message, fields) => console.log(`  [gomes warn] ${message} ${JSON.stringify(fields ?? {})}`),
    error: (message, fields) =>
      console.log(`  [gomes error] ${message} ${JSON.stringify({ ...bindings, ...fields })}`),
    child: (more) => warningsLogger({ ...bindings, ...more }),
  };
}

function kafkaApp(name: string): Gomes {
  return createGomes({ name, logger: warningsLogger(), shutdownTimeoutMs: 10_000 }).addChannelConnection(
    new KafkaConnection('kafka', BROKERS, { driver: DRIVER, clientId: `example-09-${name}` }),
  );
}

function printReport(report: TopicProvisioningReport): void {
  const short = (topic: string): string => topic.slice(PREFIX.length);
  console.log(`  created:    ${report.created.map(short).join(', ') || '-'}`);
  console.log(`  matching:   ${report.matching.map(short).join(', ') || '-'}`);
  console.log(`  mismatched: ${report.mismatched.map((m) => short(m.topic)).join(', ') || '-'}`);
  for (const { topic, differences } of report.mismatched)
    for (const d of differences)
      console.log(`    ${short(topic)}: ${d.setting} declared ${d.declared}, broker has ${d.actual}`);
}

function step(title: string): void {
  console.log(`\n${title}`);
}

// ---------------------------------------------------------------- the scenarios

/** 1. The standard topics created at start(); a publisher names its topic through the templates. */
async function provisionStandardTopics(): Promise<void> {
  step(`1. catalog service: the DictaMesh standard topics, prefix ${PREFIX}, development preset`);
  const topics = TopicTemplates.define({ prefix: PREFIX, preset: 'development', topics: STANDARD_TOPICS });
  const entityChanged = topics.name('entity.changed');
  const app = kafkaApp('catalog')
    .addTopics('kafka', topics)
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', entityChanged));
  await app.start();
  printReport(app.topicReports()[0]!);
  await app.eventBusByChannel(entityChanged).publish(new EntityChanged('product-42', 'price'), {
    partitionKey: 'product-42',
  });
  console.log(`  published entityChanged to ${entityChanged}`);
  await app.shutdown();
}

/** 2. Drifted declarations: reported with every difference, never applied. */
async function reportDrift(): Promise<void> {
  step('2. search service: the same topics, three settings drifted (onMismatch: warn, the default)');
  const app = kafkaApp('search').addTopics(
    'kafka',
    TopicTemplates.define({ prefix: PREFIX, preset: 'development', topics: DRIFTED_TOPICS }),
  );
  await app.start();
  printReport(app.topicReports()[0]!);
  console.log('  started; the topics were left as they are');
  await app.shutdown();
}

/** 3. The same drift with onMismatch 'fail': start() refuses. */
async function failOnDrift(): Promise<void> {
  step("3. search service again, with onMismatch: 'fail'");
  const app = kafkaApp('search-strict').addTopics(
    'kafka',
    TopicTemplates.define({
      prefix: PREFIX,
      preset: 'development',
      topics: DRIFTED_TOPICS,
      onMismatch: 'fail',
    }),
  );
  try {
    await app.start();
    console.log('  started (unexpected: the declarations differ)');
  } catch (error) {
    if (!isGomesError(error)) throw error;
    console.log(`  start() failed: ${error.code}`);
    for (const line of error.message.split('\n')) console.log(`    ${line}`);
  } finally {
    await app.shutdown();
  }
}

async function main(): Promise<void> {
  console.log(`gomes example 09 — Kafka at ${BROKERS.join(',')}, driver ${DRIVER} (run ${RUN})`);
  await provisionStandardTopics();
  await reportDrift();
  await failOnDrift();
  console.log('\ndone');
}

main().catch((error: unknown) => {
  console.error(`example 09 failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});

/** The application's driver setting (unset: kafkajs); an unknown name stops the example. */
function kafkaDriver(value: string | undefined): KafkaDriverName {
  const name = value?.trim() || 'kafkajs';
  if (name !== 'kafkajs' && name !== 'platformatic')
    throw new Error(`GOMES_KAFKA_DRIVER=${name}: expected kafkajs or platformatic`);
  return name;
}

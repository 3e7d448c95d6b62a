/** docs/benchmarks.md, as `pnpm bench` writes it. */
import os from 'node:os';
import { inProcessMarkdown, type InProcessRun } from './inprocess-report.js';
import { JAVA_PRODUCER_PROPS } from './java-reference.js';
import { FINDINGS } from './notes.js';
import {
  AVRO_VS_JSON_HEADER,
  markdownTable,
  publishMarkdownTable,
  type PublishRow,
  type ResultRow,
} from './report.js';
import type { Spread } from './stats.js';

/** The Java reference rows (undefined when not measured). */
export interface JavaRows {
  producer: Spread | undefined;
  consumer: Spread | undefined;
  javaVersion: string;
}

/** Everything the report shows. */
export interface BenchmarksInput {
  readonly inProcess: InProcessRun | undefined;
  readonly publish: readonly PublishRow[];
  readonly rows: readonly ResultRow[];
  /** Avro vs JSON rows (both gomes): `raw` is JSON, `gomes` is Avro. */
  readonly avro: readonly ResultRow[];
  readonly java: JavaRows;
  readonly environment: {
    readonly started: Date;
    readonly loadBefore: readonly number[];
    readonly loadAfter: readonly number[];
    readonly seconds: number;
    readonly brokers: readonly string[];
    readonly kafkajs: string;
    /** @platformatic/kafka's version, and the gomes drivers measured. */
    readonly platformatic: string;
    readonly drivers: readonly string[];
    readonly kafka: string;
    readonly brokerJit: string;
  };
  readonly settings: {
    readonly reps: number;
    readonly publishMessages: number;
    readonly consumeMessages: number;
    readonly latencySends: number;
    readonly partitions: number;
    readonly batchSize: number;
    readonly window: number;
    readonly deepWindow: number;
    readonly publishSlices: number;
    readonly javaRecords: number;
    readonly javaWarmup: number;
    readonly warmupPublish: number;
    readonly warmupLatency: number;
    readonly warmupConsume: number;
    readonly payloadBytes: number;
  };
}

const rate = (v: number): string => Math.round(v).toLocaleString('en-US');
const spreadCell = (s: Spread): string => `${rate(s.median)} (${rate(s.min)}–${rate(s.max)})`;
const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' / ');

function javaSection(input: BenchmarksInput): string {
  const { java, publish, rows, settings: s } = input;
  if (!java.producer && !java.consumer) return '### Java reference\n\nNot measured in this run.\n';
  const keyValue = publish[0]?.keyValue;
  const identical = publish[0]?.identical;
  const consumeRaw = rows.find((r) => r.scenario.startsWith('2.'))?.raw;
  const lines: string[] = [];
  if (java.producer) {
    lines.push(
      `| Java \`ProducerPerformance\` (${s.javaRecords} records after ${s.javaWarmup} warm-up) | ${spreadCell(java.producer)} | ` +
        (keyValue ? `${((keyValue.median / java.producer.median) * 100).toFixed(1)}%` : '—') +
        ' | ' +
        (identical ? `${((identical.median / java.producer.median) * 100).toFixed(1)}%` : '—') +
        ' |',
    );
  }
  if (java.consumer) {
    lines.push(
      `| Java \`ConsumerPerformance\` (the ${s.consumeMessages} records of the consume topic) | ${spreadCell(java.consumer)} | ` +
        (consumeRaw ? `${((consumeRaw.median / java.consumer.median) * 100).toFixed(1)}%` : '—') +
        ' | — |',
    );
  }
  return `### Java reference (no gomes, no kafkajs)

Kafka's own clients through its performance tools (\`org.apache.kafka:kafka-tools\` ${input.environment.kafka}, the broker's
version, fetched through tools/kafka/pom.xml), ${java.javaVersion}, on the same broker in the same run: what the broker and
the JVM client reach on this machine. msgs/s, median of ${s.reps} runs (min–max); each run is a fresh JVM.

| Reference | msgs/s median (min–max) | raw kafkajs key + value / Java | raw kafkajs identical / Java |
| --- | --- | --- | --- |
${lines.join('\n')}

- \`ProducerPerformance\`: ${s.payloadBytes}-byte records of random bytes, distinct keys (\`--key-distribution range\`, so they
  spread over the partitions like the kafkajs and gomes records), no headers (the tool has no option for them),
  \`--throughput -1\`, ${JAVA_PRODUCER_PROPS.map((p) => `\`${p}\``).join(', ')}; the Java client's own batching otherwise
  (\`batch.size\` 16 KiB, \`linger.ms\` 5, 5 requests in flight): rows 1a–1c use kafkajs with one request of ${s.batchSize}
  records in flight. Steady-state records/s: a fresh JVM compiles while it runs, so its first records are a warm-up,
  excluded.
- \`ConsumerPerformance\`: a fresh group reads the consume topic (the gomes records rows 2–2c read) from the earliest
  offset with the tool's defaults; \`fetch.nMsg.sec\`, i.e. without the group join, as the consume rows.
- For the consume row the last column is "raw kafkajs consume / Java".
`;
}

/** The whole of docs/benchmarks.md. */
export function benchmarksMarkdown(input: BenchmarksInput): string {
  const { environment: e, settings: s } = input;
  const cpus = os.cpus();
  return `# Benchmarks

Generated by \`pnpm bench\` (\`packages/bench\` for the in-process part, \`packages/kafka/bench\` for Kafka); do not edit by
hand, re-run it. Every figure is a ratio against an anchor measured in the same run on the same machine: absolute numbers
depend on the machine and its load, the ratios are what the targets are about.

## Last run

- Date: ${e.started.toISOString()}
- Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}
- Load average (1/5/15 min), Kafka part: before ${load(e.loadBefore)}, after ${load(e.loadAfter)}. On a shared machine other
  processes (other engineers' tests, brokers) may load it during the run: absolute numbers are then noisy, the same-run
  ratios much less so. The CPU column of the publish table (this process' CPU time per message) is the least noisy view.
- Broker: Apache Kafka ${e.kafka}, single-node KRaft on ${e.brokers.join(',')}, JVM ${e.brokerJit}; client and broker on the same machine
- Node ${process.version}, kafkajs ${e.kafkajs}, @platformatic/kafka ${e.platformatic}, gomes drivers measured: ${e.drivers.join(', ')};
  TypeScript build of @gomes/core and @gomes/kafka (this repository)
- Kafka part: ${s.publishMessages} messages per publish run, ${s.consumeMessages} per consume run, ${s.latencySends} awaited sends per latency run;
  ${s.reps} runs of each scenario after a warm-up; ${e.seconds.toFixed(0)} s

${inProcessMarkdown(input.inProcess)}
## Kafka

Median of ${s.reps} runs, (min–max) over the runs. Throughput: higher is better; latency: lower is better. Ratios are ratios of
the medians.

### Publish

${input.publish.length > 0 ? publishMarkdownTable(input.publish) : 'Not measured in this run.'}

"gomes / identical" is the median of the runs' ratios (in %, each run's in brackets): in a run both sides send in the same
interleaved slices, so a run's ratio compares them under the same load; the throughput columns are each side's own median
and spread over the runs. Every gomes row runs on each driver: rows tagged [platformatic] are gomes on the platformatic driver,
anchored on raw @platformatic/kafka sending the same identical records (its \`Producer\`, idempotent, \`compatibilityPartitioner\`,
the same batches), while their key + value column stays raw kafkajs (issue 10 wants ≥ 150% there; like "gomes / identical" it
is the median of the runs' ratios). Rows 1d and 1e are raw @platformatic/kafka itself in that column, with gomes' records and
with key + value only: 1d is what the platformatic rows can reach there in the same run. The anchor of the other rows is raw kafkajs sending **identical records**: the keys and headers gomes writes (made before the
clock starts: the raw side does not make ids or timestamps), the same value work (\`JSON.stringify\` of the same payload
at send time), the same batching. "raw kafkajs, key + value" is a plain kafkajs user's record without headers, for scale:
the headers' wire cost belongs to the client. 1b has no target (async mode resolves sends on enqueue). 1a' and 1c' keep
${s.deepWindow} sends in flight: ${s.deepWindow - s.batchSize} of them wait in the channel with their serialized records, which then
survive young-generation collections and get promoted (copied, later marked); the CPU column shows what that costs.

### Consume and latency

${markdownTable(input.rows)}

Rows 2b–2d are the consume core's targets (issue 9): 2b the same run with \`withAmountOfProcessors(4)\` (no slower than
one processor), 2c a batch handler, 2d good records flowing past 1% poison records (whose raw column is row 2's gomes
figure, the poison-free rate). Rows marked "info" have no target.

${javaSection(input)}
### Avro vs JSON

Both through gomes with its defaults and the same payload objects (${s.payloadBytes} bytes as JSON), Avro in the Confluent wire
format with its schema in a schema registry (Apicurio Registry, started by \`pnpm bench\`; the schema id is registered during
the warm-up and cached, so the timed runs make no registry call). 4a: the sync channel with ${s.window} concurrent awaited
sends; 4b: consume of a pre-filled topic per format, no-op handler, the consume rows' settings. \`BENCH_ONLY=avro\` runs just
these rows.

${input.avro.length > 0 ? markdownTable(input.avro, AVRO_VS_JSON_HEADER) : 'Not measured in this run.'}

## Method

- One broker, one process, one run. Topics created for the run (publish, latency, consume, consume warm-up, Java, Avro), all with
  the same settings: ${s.partitions} partitions, replication factor 1, broker defaults otherwise; deleted at the end.
- Payload: the same pre-built objects for both sides, each exactly ${s.payloadBytes} bytes of JSON (an order with three lines and a
  padding note). Both sides do the same JSON work: \`JSON.stringify\` on send, \`JSON.parse\` on receive (gomes' JSON serializer).
- Producer settings, both sides: kafkajs ${e.kafkajs}, idempotent, acks=-1 (all in-sync replicas), \`maxInFlightRequests\` 1, no compression,
  murmur2 (Java-compatible) partitioner, 10 attempts. Keys are distinct per message (raw key + value: the order id; gomes and
  raw identical: the messageId for channel sends, the correlationId for the event bus), so records spread over the ${s.partitions} partitions.
- 1. Batched publish. Raw: \`producer.send\` with batches of ${s.batchSize} messages, each awaited (the batch is acknowledged by the broker
  when it returns). gomes: (1a) the default sync publisher channel with ${s.window} concurrent \`channel.send(message)\` calls in
  flight (each message built with \`MessageBuilder\` inside the timing: uuid v7 \`messageId\`, timestamp, route, messageType),
  each resolving only after the broker ack; the channel coalesces them into produce requests of its default \`batchSize\`
  ${s.batchSize}, so the wire pattern and the guarantee (every message acked when its promise resolves) match the raw side;
  ${s.window} = two requests' worth, so one request is in flight while the next one fills. (1a') the same with ${s.deepWindow}. (1b)
  async mode (\`withAsync()\`, linger 10 ms, batch ${s.batchSize}): \`send\` resolves on enqueue; the clock stops when \`flush()\`
  resolved, i.e. after the broker acked everything, and the run fails if any async send failed. (1c, 1c') the user-facing
  \`gomes.eventBusByChannel(topic).publish(event)\` with ${s.window} (${s.deepWindow}) concurrent publishes: adds class-validator validation (no
  constraints on the bench event), the action message (with a correlationId and the channel name: one more header each)
  and the instance's publish metrics; its anchor sends records of that shape, checked against a record the bus really
  built. msgs/s = messages / (time from the first send to the last broker ack).
- 2. Consume. The topic is pre-filled once with ${s.consumeMessages} gomes records (headers included), so both sides read identical
  records. Each run uses a fresh consumer group from the earliest offset; the clock runs from the first message handed to
  user code to the last one processed (group join excluded). Raw: kafkajs \`eachBatch\`, auto-commit off, \`JSON.parse\` of each
  value, \`resolveOffset\` per message, processed offsets committed every 1 s and at the end (like gomes' default
  \`commitIntervalMs\` 1000), fetch settings equal to gomes' defaults (minBytes 1, maxWait 500 ms, 1 MiB per partition),
  read_committed. gomes: the full path users get: \`createGomes()\`, \`KafkaConnection\`, \`KafkaConsumerChannelBuilder\` with its
  defaults (commit interval 1 s), a no-op \`defineEventHandler\`, \`gomes.eventDrivenConsumer(name).run()\` with
  its defaults (1 processor, message validation on, 1000 records buffered per partition), i.e. the consume core (whole
  fetched batches into a per-partition intake, the key scheduler, one settle point, gap-safe commits every 1 s), translation,
  the handler pipeline (ack, dead letter, retry, timeout), the action dispatcher, ack after the handler. After each run both groups' committed offsets
  are checked to equal the log end offsets (both at-least-once, nothing lost). 2b: \`withAmountOfProcessors(4)\` (keys are
  distinct, so four records run at once). 2c: \`defineBatchEventHandler\` with \`maxSize\` ${s.batchSize} instead of the
  single handler. 2d: every 100th record (by \`seq\`) always throws a retriable error; the consumer retries it
  (\`withRetry\`, 3 attempts, 100 ms apart) and then dead-letters it to a topic of the run; the clock runs from the first
  good record to the last, the run ends once every poison record used its 3 attempts, and the committed offsets are then
  checked to be the log end (the poison records dead-lettered, not skipped).
- 3. Latency: ${s.latencySends} sequential awaited single-message sends per run (raw \`producer.send\` of one message; gomes
  \`channel.send\` on the default sync channel), acks=-1; p50/p99 per run, then median and spread over the runs.
- Fairness: a publish run is made of ${s.publishSlices} slices; in each slice every publish side (raw and gomes) sends its share of the
  messages, in an order rotated and reversed from slice to slice, and a side's msgs/s is its messages over the time of its
  own slices. The raw and gomes runs of the consume and latency scenarios alternate (the order is reversed every other
  run). Every scenario is warmed up first (${s.warmupPublish} publishes, ${s.warmupLatency} single sends, a ${s.warmupConsume}-record consume per side). All times are
  taken after the broker acknowledged (publish) or after the handler/processing finished (consume), never at enqueue.

${FINDINGS}
`;
}

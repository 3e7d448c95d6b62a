/**
 * The physical reference: Kafka's own Java clients, through its performance tools
 * (`org.apache.kafka:kafka-tools` of the broker's version: `ProducerPerformance`,
 * `ConsumerPerformance`), on the same broker, with the same record size and acks. No gomes, no
 * kafkajs: what the broker and the JVM client reach on this machine.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../../scripts/kafka-perf-tools.mjs', import.meta.url));

/** The tools' classpath (their jars are fetched through Maven the first time). */
export function perfToolsClasspath(kafkaVersion: string): string {
  return execFileSync(process.execPath, [SCRIPT, 'classpath', '--kafka-version', kafkaVersion], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** `java -version`'s first line (the JVM prints it on stderr). */
export function javaVersion(): string {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const line = `${result.stderr ?? ''}${result.stdout ?? ''}`.split('\n')[0]?.trim();
  return line ? line : 'java: unknown version';
}

async function java(classpath: string, main: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'java',
      ['-Xmx512m', '-cp', classpath, main, ...args],
      { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${main} failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(`${stdout}\n${stderr}`);
      },
    );
  });
}

/** The producer settings of the reference row (everything else: the Java client's defaults). */
export const JAVA_PRODUCER_PROPS = ['acks=all', 'enable.idempotence=true'] as const;

/**
 * `ProducerPerformance`: `warmup + records` records of `recordSize` random bytes, distinct keys
 * (round-robin over a range, so they spread over the partitions), as fast as it can (acks=all,
 * idempotent). Returns the steady-state records/s (the warm-up records excluded).
 */
export async function javaProducerPerformance(
  classpath: string,
  brokers: readonly string[],
  topic: string,
  records: number,
  warmup: number,
  recordSize: number,
): Promise<number> {
  const out = await java(classpath, 'org.apache.kafka.tools.ProducerPerformance', [
    '--bootstrap-server',
    brokers.join(','),
    '--topic',
    topic,
    '--num-records',
    String(records + warmup),
    '--warmup-records',
    String(warmup),
    '--record-size',
    String(recordSize),
    '--key-distribution',
    'range',
    '--record-key-range',
    String(records + warmup),
    '--throughput',
    '-1',
    '--command-property',
    ...JAVA_PRODUCER_PROPS,
  ]);
  const steady = /([\d.]+) steady state records sent, ([\d.]+) records\/sec/.exec(out);
  const total = /(\d+) records sent, ([\d.]+) records\/sec/.exec(out);
  const rate = Number((steady ?? total)?.[2]);
  if (!Number.isFinite(rate) || rate <= 0)
    throw new Error(`cannot read ProducerPerformance's result:\n${out}`);
  return rate;
}

/**
 * `ConsumerPerformance`: a fresh group reads `records` records of `topic` from the earliest offset.
 * Returns `fetch.nMsg.sec`: records/s without the group join (as the kafkajs and gomes consume rows).
 */
export async function javaConsumerPerformance(
  classpath: string,
  brokers: readonly string[],
  topic: string,
  records: number,
  groupId: string,
): Promise<number> {
  const out = await java(classpath, 'org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server',
    brokers.join(','),
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--group',
    groupId,
    '--timeout',
    '60000',
  ]);
  const lines = out.split('\n').map((l) => l.trim());
  const header = lines.findIndex((l) => l.startsWith('start.time'));
  const names = lines[header]?.split(',').map((c) => c.trim()) ?? [];
  const values = lines[header + 1]?.split(',').map((c) => c.trim()) ?? [];
  const consumed = Number(values[names.indexOf('data.consumed.in.nMsg')]);
  const rate = Number(values[names.indexOf('fetch.nMsg.sec')]);
  if (consumed !== records || !Number.isFinite(rate) || rate <= 0)
    throw new Error(`cannot read ConsumerPerformance's result (expected ${records} records):\n${out}`);
  return rate;
}

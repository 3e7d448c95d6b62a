#!/usr/bin/env node
// Kafka's own performance tools (org.apache.kafka:kafka-tools: ProducerPerformance,
// ConsumerPerformance), for the Java reference rows of `pnpm bench`. Same version as the broker,
// jars fetched once through tools/kafka/pom.xml (profile perf-tools, slf4j-nop for quiet logs) into
// .kafka/tools/<version>/ (gitignored).
//
//   node scripts/kafka-perf-tools.mjs classpath [--kafka-version 4.4.0]
//
// prints the classpath to give `java -cp`.
import path from 'node:path';
import { ensurePerfToolJars, takeKafkaVersion } from './kafka-broker.mjs';

const { version, rest } = takeKafkaVersion(process.argv.slice(2));
if (rest[0] !== 'classpath' || rest.length !== 1) {
  process.stderr.write('usage: node scripts/kafka-perf-tools.mjs classpath [--kafka-version <x.y.z>]\n');
  process.exit(2);
}
const dir = ensurePerfToolJars({ version });
process.stdout.write(`${path.join(dir, '*')}\n`);

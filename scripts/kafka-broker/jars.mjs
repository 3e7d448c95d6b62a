// The broker's jars: fetched from Maven Central through tools/kafka/pom.xml into .kafka/lib/<version>/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, DEFAULT_KAFKA_VERSION, defaultLog, isKafka3, paths } from './config.mjs';

const POM = path.join(ROOT, 'tools', 'kafka', 'pom.xml');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

/** Fills .kafka/lib/<version>/ with the broker's runtime closure (idempotent). */
export function ensureJars({ version = DEFAULT_KAFKA_VERSION, root = ROOT, log = defaultLog } = {}) {
  return fetchJars({
    version,
    root,
    log,
    libDir: paths(root).libDir(version),
    profiles: isKafka3(version) ? ['kafka39'] : [],
    what: `Kafka ${version} jars`,
    mustContain: /^kafka_2\.13-.*\.jar$/,
  });
}

/**
 * Fills .kafka/tools/<version>/ with Kafka's own performance tools (`kafka-tools`: ProducerPerformance,
 * ConsumerPerformance) of that version and slf4j-nop, for the benchmark's Java reference (idempotent).
 */
export function ensurePerfToolJars({ version = DEFAULT_KAFKA_VERSION, root = ROOT, log = defaultLog } = {}) {
  return fetchJars({
    version,
    root,
    log,
    libDir: path.join(paths(root).kafkaDir, 'tools', version),
    profiles: ['perf-tools'],
    what: `Kafka ${version} performance tools`,
    mustContain: /^kafka-tools-.*\.jar$/,
  });
}

function fetchJars({ version, root, log, libDir, profiles, what, mustContain }) {
  const marker = path.join(libDir, '.complete');
  if (fs.existsSync(marker)) return libDir;
  fs.rmSync(libDir, { recursive: true, force: true });
  const tmpDir = `${libDir}.tmp-${process.pid}`;
  fs.rmSync(tmpDir, { recursive: true, force: true });
  const args = ['-B', '-q', '-Dstyle.color=never', '-f', POM];
  for (const profile of profiles) args.push('-P', profile);
  args.push(
    `-Dkafka.version=${version}`,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    `-DoutputDirectory=${tmpDir}`,
  );
  log(`fetching ${what} with Maven into ${path.relative(root, libDir)} ...`);
  const t0 = Date.now();
  try {
    execFileSync('mvn', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`mvn copy-dependencies failed for ${what}:\n${out || err.message}`);
  }
  const jars = fs.readdirSync(tmpDir).filter((f) => f.endsWith('.jar'));
  if (!jars.some((f) => mustContain.test(f))) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw new Error(`mvn did not produce the expected jar (${mustContain}) for ${what} in ${tmpDir}`);
  }
  fs.writeFileSync(path.join(tmpDir, '.complete'), `${version}\n`);
  fs.mkdirSync(path.dirname(libDir), { recursive: true });
  fs.renameSync(tmpDir, libDir);
  log(`fetched ${jars.length} jars in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return libDir;
}

/** How many jars, and how many bytes, a lib folder holds. */
export function jarStats(libDir) {
  const jars = fs.readdirSync(libDir).filter((f) => f.endsWith('.jar'));
  const bytes = jars.reduce((sum, f) => sum + fs.statSync(path.join(libDir, f)).size, 0);
  return { count: jars.length, bytes };
}

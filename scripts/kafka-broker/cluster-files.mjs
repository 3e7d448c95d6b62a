// The files a cluster is made of: TLS material, server.properties, logging configuration, and the
// formatted storage (kafka-storage format, with the SCRAM users).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HOST, PORTS, TOOL_JVM_FLAGS, USERS, isKafka3 } from './config.mjs';
import { cds } from './class-data-sharing.mjs';

export function newClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && !/^A+[AQgw]?$/.test(id)) return id;
  }
}

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost, as a Kafka PEM keystore. */
export function generateTls(tlsDir) {
  fs.mkdirSync(tlsDir, { recursive: true });
  const run = (...args) =>
    execFileSync('openssl', args, { cwd: tlsDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=gomes-it-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  fs.writeFileSync(
    path.join(tlsDir, 'san.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    'san.ext',
    '-out',
    'server.crt',
  );
  const key = fs.readFileSync(path.join(tlsDir, 'server.key'), 'utf8');
  if (!key.includes('BEGIN PRIVATE KEY')) {
    throw new Error(
      'openssl did not write an unencrypted PKCS#8 key ("BEGIN PRIVATE KEY"), which Kafka PEM needs',
    );
  }
  // Kafka PEM keystore: PKCS#8 key followed by the certificate chain, in one file.
  fs.writeFileSync(
    path.join(tlsDir, 'server.pem'),
    key +
      fs.readFileSync(path.join(tlsDir, 'server.crt'), 'utf8') +
      fs.readFileSync(path.join(tlsDir, 'ca.crt'), 'utf8'),
  );
  return tlsFiles(tlsDir);
}

/** Where generateTls wrote the CA certificate and the keystore. */
export function tlsFiles(tlsDir) {
  return { caFile: path.join(tlsDir, 'ca.crt'), keystoreFile: path.join(tlsDir, 'server.pem') };
}

export function serverProperties({ version, p, keystoreFile, extraProperties = {} }) {
  const { plaintext, controller, sasl, ssl } = PORTS;
  const plainUsers = USERS.plain.map((u) => `user_${u.username}="${u.password}"`).join(' ');
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${HOST}:${controller}`,
    'controller.listener.names': 'CONTROLLER',
    listeners: `PLAINTEXT://${HOST}:${plaintext},CONTROLLER://${HOST}:${controller},SASL_PLAINTEXT://${HOST}:${sasl},SSL://${HOST}:${ssl}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${plaintext},SASL_PLAINTEXT://${HOST}:${sasl},SSL://${HOST}:${ssl}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map':
      'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL',
    'log.dirs': p.dataDir,
    'num.partitions': '1',
    'default.replication.factor': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'true',
    'delete.topic.enable': 'true',
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'background.threads': '4',
    'log.cleaner.threads': '1',
    'log.cleaner.dedupe.buffer.size': String(8 * 1024 * 1024),
    // SASL_PLAINTEXT: PLAIN users inline; SCRAM users live in the metadata log (format --add-scram).
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" ${plainUsers};`,
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    // SSL with a PEM keystore (no JKS, no keytool, no password for an unencrypted key).
    'listener.name.ssl.ssl.keystore.type': 'PEM',
    'listener.name.ssl.ssl.keystore.location': keystoreFile,
  };
  if (!isKafka3(version)) {
    props['share.coordinator.state.topic.replication.factor'] = '1';
    props['share.coordinator.state.topic.min.isr'] = '1';
  }
  Object.assign(props, extraProperties);
  return `# generated by scripts/kafka-broker.mjs for Kafka ${version}\n${Object.entries(props)
    .map(([k, v]) => `${k}=${String(v).replace(/\\/g, '\\\\')}`)
    .join('\n')}\n`;
}

/** Writes the broker's log4j (Kafka 3) or log4j2 (Kafka 4) configuration; returns the JVM flags for it. */
export function writeLoggingConfig(version, p) {
  if (isKafka3(version)) {
    const file = path.join(p.runDir, 'log4j.properties');
    fs.writeFileSync(
      file,
      [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.kafka.network.RequestChannel$=WARN',
        'log4j.logger.state.change.logger=WARN',
        'log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN',
        '',
      ].join('\n'),
    );
    return [`-Dlog4j.configuration=file:${file}`];
  }
  const file = path.join(p.runDir, 'log4j2.properties');
  fs.writeFileSync(
    file,
    [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = STDOUT',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.out.ref = STDOUT',
      'logger.req.name = kafka.request.logger',
      'logger.req.level = WARN',
      'logger.rc.name = kafka.network.RequestChannel$',
      'logger.rc.level = WARN',
      'logger.sc.name = state.change.logger',
      'logger.sc.level = WARN',
      '',
    ].join('\n'),
  );
  return [`-Dlog4j2.configurationFile=${file}`];
}

/** Formats the storage of a new cluster (kafka-storage format, SCRAM users added); returns the ms taken. */
export function formatStorage({ root, version, classpath, logFlags, clusterId, p }) {
  const t0 = Date.now();
  const scramArgs = USERS.scram.flatMap((u) =>
    u.mechanisms.flatMap((m) => ['--add-scram', `${m}=[name=${u.username},password=${u.password}]`]),
  );
  const toolCds = cds(root, version, 'storage-tool');
  try {
    execFileSync(
      'java',
      [
        ...TOOL_JVM_FLAGS,
        ...toolCds.flags,
        ...logFlags,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        p.propsFile,
        ...scramArgs,
      ],
      { cwd: p.runDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
    toolCds.commit();
  } catch (err) {
    if (toolCds.tmp) fs.rmSync(toolCds.tmp, { force: true });
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`
      .trim()
      .split('\n')
      .filter((l) => !/^\s/.test(l))
      .slice(-30)
      .join('\n');
    throw new Error(`kafka-storage format failed (Kafka ${version}):\n${out || err.message}`);
  }
  return Date.now() - t0;
}

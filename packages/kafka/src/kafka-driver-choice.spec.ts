import { ConfigurationError, noopLogger } from '@gomes/core';
import { KafkaConnection } from './kafka-connection.js';
import { KafkaConsumerChannelBuilder } from './kafka-consumer-channel-builder.js';
import { importOptionalPeer, loadPlatformaticKafka } from './driver/platformatic-loader.js';
import { fakeDriver } from '../test/support/fake-kafka-driver.js';

describe('choosing the Kafka driver', () => {
  const saved = process.env['GOMES_KAFKA_DRIVER'];
  afterEach(() => {
    if (saved === undefined) delete process.env['GOMES_KAFKA_DRIVER'];
    else process.env['GOMES_KAFKA_DRIVER'] = saved;
  });

  it('is the driver option, else kafkajs — the library reads no environment variable for it', () => {
    process.env['GOMES_KAFKA_DRIVER'] = 'platformatic'; // the test runner's variable: not the library's
    expect(new KafkaConnection('k', ['b:9092']).driverName).toBe('kafkajs');
    expect(new KafkaConnection('k', ['b:9092']).describe()).toMatchObject({ driver: 'kafkajs' });
    const platformatic = new KafkaConnection('k', ['b:9092'], { driver: 'platformatic' });
    expect(platformatic.driverName).toBe('platformatic');
    expect(platformatic.validate()).toEqual([]);
    expect(platformatic.describe()).toMatchObject({ driver: 'platformatic' });
    process.env['GOMES_KAFKA_DRIVER'] = 'confluent';
    expect(new KafkaConnection('k', ['b:9092']).validate()).toEqual([]);
  });

  it('reports an unknown driver option with the drivers there are', async () => {
    const byOption = new KafkaConnection('k', ['b:9092'], { driver: 'rdkafka' as never });
    expect(byOption.validate()).toEqual([
      'Kafka connection "k": driver "rdkafka" is not one of kafkajs, platformatic',
    ]);
    await expect(byOption.connect()).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('rejects a kafkajs-only option on the platformatic driver, naming what bounds it there', () => {
    const options = { driver: 'platformatic' as const, authenticationTimeoutMs: 5000 };
    expect(new KafkaConnection('k', ['b:9092'], options).validate()).toEqual([
      'Kafka connection "k": authenticationTimeoutMs is not supported by the platformatic driver (it bounds the SASL exchange with requestTimeoutMs); remove it or use the kafkajs driver',
    ]);
    expect(new KafkaConnection('k', ['b:9092'], { ...options, driver: 'kafkajs' }).validate()).toEqual([]);
  });

  it('names the package to install when the platformatic driver is chosen without it', async () => {
    const error = await importOptionalPeer(
      '@platformatic/kafka-not-installed',
      '@platformatic/kafka',
      '^1.35.0',
      'The Kafka driver "platformatic"',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('GOMES_CONFIGURATION');
    expect((error as Error).message).toContain(
      'The Kafka driver "platformatic" needs the package @platformatic/kafka',
    );
    expect((error as Error).message).toContain('npm install @platformatic/kafka@"^1.35.0"');
  });

  it('loads @platformatic/kafka once, with a zstd codec on every Node.js', async () => {
    const kafka = await loadPlatformaticKafka();
    expect(await loadPlatformaticKafka()).toBe(kafka);
    const zstd = kafka.compressionsAlgorithms.zstd as {
      available: boolean;
      compressSync(data: Buffer): Buffer;
      decompressSync(data: Buffer): Buffer;
    };
    expect(zstd.available).toBe(true);
    const data = Buffer.from('gomes '.repeat(100));
    const compressed = zstd.compressSync(data);
    expect(compressed.length).toBeLessThan(data.length);
    expect(zstd.decompressSync(compressed)).toEqual(data);
  });
});

describe('the consumer group protocol', () => {
  it('is classic by default; KIP-848 does not go with withPartition', () => {
    const b = new KafkaConsumerChannelBuilder('kafka', 'orders', 'svc');
    expect(b.options.groupProtocol).toBe('classic');
    expect(b.withGroupProtocol('consumer').validate()).toEqual([]);
    expect(b.withGroupProtocol('consumer').withPartition(0).validate()).toEqual([
      'consumer "svc": withPartition cannot be used with the consumer group protocol (KIP-848): the broker assigns the partitions; use the classic protocol',
    ]);
    expect(b.withGroupProtocol('cooperative' as never).validate()).toEqual([
      "consumer \"svc\": groupProtocol must be 'classic' or 'consumer', got cooperative",
    ]);
  });

  it('fails the build with a ConfigurationError on a driver without KIP-848 (kafkajs)', async () => {
    const { driver } = fakeDriver();
    const connection = new KafkaConnection('kafka', ['b:9092'], { driverFactory: () => driver });
    await connection.connect();
    const build = new KafkaConsumerChannelBuilder('kafka', 'orders', 'svc')
      .withGroupProtocol('consumer')
      .build({ connection, logger: noopLogger });
    const error = await build.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(
      'the consumer group protocol (withGroupProtocol) is not supported by the "kafkajs" driver of connection "kafka"',
    );
  });
});

import { noopLogger } from '@gomes/core';
import { fakeDriver } from '../test/support/fake-kafka-driver.js';
import type { KafkaDriverConfig } from './driver/kafka-driver.js';
import { KafkaConnection } from './kafka-connection.js';
import { connectTimeoutsOf, validateKafkaConnectionOptions } from './kafka-connection-options.js';

describe('Kafka connection timeouts: socketConnectTimeoutMs and connectBudgetMs', () => {
  it('take the new names, else their deprecated aliases, else the defaults', () => {
    expect(connectTimeoutsOf({})).toEqual({ socketConnectTimeoutMs: 3000, connectBudgetMs: 15000 });
    expect(connectTimeoutsOf({ socketConnectTimeoutMs: 1500, connectBudgetMs: 4000 })).toEqual({
      socketConnectTimeoutMs: 1500,
      connectBudgetMs: 4000,
    });
    expect(connectTimeoutsOf({ connectionTimeoutMs: 1200, connectTimeoutMs: 7000 })).toEqual({
      socketConnectTimeoutMs: 1200,
      connectBudgetMs: 7000,
    });
  });

  it('reject a new name given together with its deprecated alias, and validate both', () => {
    const problems = validateKafkaConnectionOptions('k', ['b:9092'], {
      socketConnectTimeoutMs: 1000,
      connectionTimeoutMs: 1000,
      connectBudgetMs: 5000,
      connectTimeoutMs: 5000,
    });
    expect(problems).toEqual([
      'Kafka connection "k": both socketConnectTimeoutMs and its deprecated alias connectionTimeoutMs are given; keep only socketConnectTimeoutMs',
      'Kafka connection "k": both connectBudgetMs and its deprecated alias connectTimeoutMs are given; keep only connectBudgetMs',
    ]);
    expect(
      validateKafkaConnectionOptions('k', ['b:9092'], { socketConnectTimeoutMs: 0, connectTimeoutMs: -1 }),
    ).toEqual([
      'Kafka connection "k": socketConnectTimeoutMs must be a positive integer (ms), got 0',
      'Kafka connection "k": connectTimeoutMs must be a positive integer (ms), got -1',
    ]);
    expect(validateKafkaConnectionOptions('k', ['b:9092'], { connectionTimeoutMs: 1000 })).toEqual([]);
  });

  it('reach the driver: the per-socket timeout from either name', async () => {
    const configs: KafkaDriverConfig[] = [];
    const fake = fakeDriver();
    for (const options of [{ socketConnectTimeoutMs: 1111 }, { connectionTimeoutMs: 2222 }]) {
      const connection = new KafkaConnection('kafka', ['localhost:1'], {
        ...options,
        logger: noopLogger,
        driverFactory: (config) => {
          configs.push(config);
          return fake.driver;
        },
      });
      await connection.connect();
      await connection.disconnect();
    }
    expect(configs.map((c) => c.connectionTimeoutMs)).toEqual([1111, 2222]);
  });
});

import 'reflect-metadata';
import { Event } from '../actions/action-decorators.js';
import { defineEventHandler } from '../actions/handler-definition.js';
import type { PreflightContext } from '../channel/channel-builders.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { InMemoryConnection, inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import {
  InMemoryConsumerChannelBuilder,
  inMemoryConsumer,
} from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import {
  InMemoryPublisherChannelBuilder,
  inMemoryPublisher,
} from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { createGomes } from './create-gomes.js';

@Event('parcelShipped')
class ParcelShipped {
  constructor(readonly id: string) {}
}

/** Counts connects, so a test can prove nothing connected after a failed preflight. */
class CountingConnection extends InMemoryConnection {
  connects = 0;
  override async connect(): Promise<void> {
    this.connects++;
    await super.connect();
  }
}

function withPreflight<B extends InMemoryPublisherChannelBuilder | InMemoryConsumerChannelBuilder>(
  builder: B,
  preflight: (context: PreflightContext) => Promise<string[]>,
): B {
  return Object.assign(builder, { preflight });
}

describe('start() runs the builders preflight checks', () => {
  it('fails with one ConfigurationError listing every preflight problem (a throwing preflight included) and connects nothing', async () => {
    const connection = new CountingConnection('mem', { broker: new InMemoryBroker() });
    const seen: PreflightContext[] = [];
    const app = createGomes();
    app
      .addChannelConnection(connection)
      .addPublisherChannel(
        withPreflight(inMemoryPublisher('mem', 'parcels'), async (context) => {
          seen.push(context);
          return ['schema A of "parcels" is incompatible: field id changed type'];
        }),
      )
      .addPublisherChannel(
        withPreflight(inMemoryPublisher('mem', 'audit'), async () => {
          throw new Error('registry unreachable');
        }),
      )
      .addConsumerChannel(
        withPreflight(inMemoryConsumer('mem', 'parcels', 'tracker'), async () => [
          'schema B cannot read version 2',
        ]),
      )
      .addActionHandler(defineEventHandler(ParcelShipped, () => undefined));

    const error = await app.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems).toEqual([
      'schema A of "parcels" is incompatible: field id changed type',
      'publisher "audit": preflight check failed: registry unreachable',
      'schema B cannot read version 2',
    ]);
    expect(app.state).toBe('failed');
    expect(connection.connects).toBe(0);
    expect(seen).toHaveLength(1);
    expect(typeof seen[0]!.logger.info).toBe('function');
  });

  it('starts when every preflight passes, and runs them only after the synchronous checks passed', async () => {
    const broker = new InMemoryBroker();
    let runs = 0;
    const preflight = async (): Promise<string[]> => {
      runs++;
      return [];
    };
    const invalid = createGomes().addPublisherChannel(
      withPreflight(inMemoryPublisher('nowhere', 'x'), preflight),
    );
    await expect(invalid.start()).rejects.toThrow(/unknown connection "nowhere"/);
    expect(runs).toBe(0);

    const app = createGomes()
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(withPreflight(inMemoryPublisher('mem', 'parcels'), preflight));
    await app.start();
    expect(runs).toBe(1);
    expect(app.state).toBe('started');
    await app.shutdown();
  });
});

// The fixture of the dead-letter unit tests (src/dead-letter/dead-letter-*.spec.ts): 20 dead letters in
// an in-memory dead-letter channel, with injectable publisher faults.
import 'reflect-metadata';
import { IsInt, IsString } from 'class-validator';
import { Event } from '../../src/actions/action-decorators.js';
import type { HandlerContext } from '../../src/actions/handler-context.js';
import { defineEventHandler } from '../../src/actions/handler-definition.js';
import type { ChannelBuildContext } from '../../src/channel/channel-builders.js';
import type { PublisherChannel } from '../../src/channel/publisher-channel.js';
import { GomesError, isGomesError, NonRetriableError } from '../../src/errors/gomes-error.js';
import { createGomes } from '../../src/gomes/create-gomes.js';
import type { Gomes } from '../../src/gomes/gomes.js';
import { noopLogger } from '../../src/logging/logger.js';
import { RedriveHeaders } from '../../src/message/dead-letter-headers.js';
import { Message } from '../../src/message/message.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { InMemoryBroker } from '../../src/transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../../src/transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../../src/transport/in-memory/in-memory-consumer-channel-builder.js';
import {
  InMemoryPublisherChannelBuilder,
  inMemoryPublisher,
} from '../../src/transport/in-memory/in-memory-publisher-channel-builder.js';

@Event('dl.parcelScanned')
export class ParcelScanned {
  @IsString() parcelId: string;
  @IsInt() seq: number;
  constructor(parcelId: string, seq: number) {
    this.parcelId = parcelId;
    this.seq = seq;
  }
}

@Event('dl.parcelLost')
export class ParcelLost {
  @IsString() parcelId: string;
  @IsString() reason: string;
  constructor(parcelId: string, reason: string) {
    this.parcelId = parcelId;
    this.reason = reason;
  }
}

/** What the handlers saw. */
export interface Handled {
  readonly route: string;
  readonly messageId: string;
  readonly redriveCount: string | undefined;
}

/** Injected publisher faults (a real in-memory channel underneath). */
export interface Faults {
  fail?: (message: Message) => boolean;
  confirmsSends?: boolean;
}

/** An in-memory publisher whose sends fail when `faults.fail` says so. */
export class FaultyPublisherBuilder extends InMemoryPublisherChannelBuilder {
  readonly faults: Faults;
  constructor(topic: string, faults: Faults) {
    super('memory', topic);
    this.faults = faults;
  }
  override async build(context: ChannelBuildContext): Promise<PublisherChannel> {
    const inner = await super.build(context);
    const faults = this.faults;
    return {
      name: inner.name,
      get confirmsSends() {
        return faults.confirmsSends ?? true;
      },
      send: async (message, options) => {
        if (faults.fail?.(message))
          throw new GomesError('PUBLISH_FAILED', `injected failure for ${message.messageId}`);
        return inner.send(message, options);
      },
      close: async () => inner.close(),
    };
  }
}

export const DLQ = 'parcels.DLQ';

export interface Setup {
  app: Gomes;
  broker: InMemoryBroker;
  handled: Handled[];
  scanned: string[];
  lost: string[];
  scanner: { offline: boolean };
  retryFaults: Faults;
  dlqFaults: Faults;
}

const apps: Gomes[] = [];
/** Registers `app` to be shut down by {@link shutdownApps}. */
export function trackApp(app: Gomes): Gomes {
  apps.push(app);
  return app;
}

/** Shuts down every app a fixture started (call it in `afterEach`). */
export async function shutdownApps(): Promise<void> {
  await Promise.all(apps.splice(0).map(async (a) => a.shutdown()));
}

/**
 * 20 dead letters in `parcels.DLQ` (3 partitions): 10 `dl.parcelScanned` failed by their handler
 * (`GOMES_HANDLER_FAILED`, the scanner is offline) and 10 `dl.parcelLost` published with an invalid
 * payload (`GOMES_VALIDATION`), interleaved.
 */
export async function twentyDeadLetters(): Promise<Setup> {
  const broker = new InMemoryBroker({ defaultPartitions: 3 });
  const handled: Handled[] = [];
  const scanner = { offline: true };
  const retryFaults: Faults = {};
  const dlqFaults: Faults = {};
  const record = (route: string, ctx: HandlerContext): void => {
    handled.push({
      route,
      messageId: ctx.messageId,
      redriveCount: ctx.headers[RedriveHeaders.REDRIVE_COUNT],
    });
  };
  const app = createGomes({ name: 'dead-letters', logger: noopLogger })
    .addChannelConnection(inMemoryConnection('memory', { broker }))
    .addPublisherChannel(inMemoryPublisher('memory', 'parcels'))
    .addPublisherChannel(new FaultyPublisherBuilder(DLQ, dlqFaults))
    .addPublisherChannel(new FaultyPublisherBuilder('parcels.retry', retryFaults))
    .addConsumerChannel(inMemoryConsumer('memory', 'parcels', 'tracker').withDeadLetterChannelName(DLQ))
    .addPublisherChannel(inMemoryPublisher('memory', 'parcels.retry.DLQ'))
    .addConsumerChannel(
      inMemoryConsumer('memory', 'parcels.retry', 'retry-tracker').withDeadLetterChannelName(
        'parcels.retry.DLQ',
      ),
    )
    .addActionHandler(
      defineEventHandler(ParcelScanned, (_event, ctx) => {
        if (scanner.offline) throw new NonRetriableError('scanner offline');
        record('dl.parcelScanned', ctx);
      }),
    )
    .addActionHandler(defineEventHandler(ParcelLost, (_event, ctx) => record('dl.parcelLost', ctx)));
  trackApp(app);
  await app.start();
  const consumer = app.eventDrivenConsumer('tracker');
  await consumer.run();
  await app.eventDrivenConsumer('retry-tracker').run();
  const events = app.eventBusByChannel('parcels');
  const scanned: string[] = [];
  const lost: string[] = [];
  for (let i = 0; i < 10; i++) {
    scanned.push(await events.publish(new ParcelScanned(`s-${i}`, i), { partitionKey: `s-${i}` }));
    // Raw, so nothing validates on send: the consumer dead-letters it (reason is not a string).
    lost.push(await events.publishRaw('dl.parcelLost', { parcelId: `l-${i}`, reason: i }));
  }
  await waitFor(() => consumer.stats.deadLettered === 20, 2000, { description: '20 dead letters' });
  return { app, broker, handled, scanned, lost, scanner, retryFaults, dlqFaults };
}

export const code = (e: unknown): string | undefined => (isGomesError(e) ? e.code : undefined);
export const sorted = (ids: readonly (string | undefined)[]): (string | undefined)[] => [...ids].sort();

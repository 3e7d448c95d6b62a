// gomes.deadLetters(channel).list over the in-memory transport: envelopes, filters, option checks.
import 'reflect-metadata';
import type { ChannelBuildContext } from '../channel/channel-builders.js';
import { PublisherChannelAdapterBuilder } from '../channel/publisher-channel-adapter-builder.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { createGomes } from '../gomes/create-gomes.js';
import { noopLogger } from '../logging/logger.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import type { DeadLetterFilter } from './dead-letter-filter.js';
import {
  DLQ,
  code,
  shutdownApps,
  sorted,
  trackApp,
  twentyDeadLetters,
} from '../../test/support/dead-letter-fixture.js';

afterEach(shutdownApps);

describe('gomes.deadLetters(channel): list', () => {
  it('lists every dead letter with its envelope and original id, oldest first', async () => {
    const { app, scanned, lost } = await twentyDeadLetters();
    const all = await app.deadLetters(DLQ).list();
    expect(all).toHaveLength(20);
    expect(sorted(all.map((d) => d.originalMessageId))).toEqual(sorted([...scanned, ...lost]));
    const times = all.map((d) => d.deadLetteredAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const first = all.find((d) => d.originalMessageId === scanned[0])!;
    expect(first.route).toBe('dl.parcelScanned');
    expect(first.envelope.errorMessage).toBe('scanner offline');
    expect(first.envelope.errorCode).toBe('GOMES_HANDLER_FAILED');
    expect(first.envelope.originChannel).toBe('parcels');
    expect(first.envelope.consumer).toBe('tracker');
    expect(first.message.payload).toEqual({ parcelId: 's-0', seq: 0 });
    expect(first.position.channel).toBe(DLQ);
    expect(first.redrives).toEqual([]);
  });

  it('filters by route, error code, origin, consumer, messageId, time range and a predicate; limits', async () => {
    const { app, scanned, lost } = await twentyDeadLetters();
    const dlq = app.deadLetters(DLQ);
    const ids = async (filter: Parameters<typeof dlq.list>[0]): Promise<(string | undefined)[]> =>
      sorted((await dlq.list(filter)).map((d) => d.originalMessageId));
    expect(await ids({ filter: { route: 'dl.parcelScanned' } })).toEqual(sorted(scanned));
    expect(await ids({ filter: { errorCode: 'GOMES_VALIDATION' } })).toEqual(sorted(lost));
    expect(await ids({ filter: { errorCode: ['GOMES_VALIDATION', 'GOMES_HANDLER_FAILED'] } })).toHaveLength(
      20,
    );
    expect(await ids({ filter: { route: 'dl.parcelLost', errorCode: 'GOMES_HANDLER_FAILED' } })).toEqual([]);
    expect(await ids({ filter: { originChannel: 'parcels', consumer: 'tracker' } })).toHaveLength(20);
    expect(await ids({ filter: { consumer: 'someone-else' } })).toEqual([]);
    expect(await ids({ filter: { messageId: [scanned[3]!, lost[7]!] } })).toEqual(
      sorted([scanned[3], lost[7]]),
    );
    expect(
      await ids({
        filter: { where: (d) => (d.message.payload as { parcelId: string }).parcelId.endsWith('-9') },
      }),
    ).toEqual(sorted([scanned[9], lost[9]]));
    // Time range on the dead-letter time: [since, until) around the middle one.
    const all = await dlq.list();
    const middle = all[10]!.deadLetteredAt;
    const since = await dlq.list({ filter: { since: middle } });
    const until = await dlq.list({ filter: { until: middle } });
    expect(since.length + until.length).toBe(20);
    expect(since.every((d) => d.deadLetteredAt.getTime() >= middle.getTime())).toBe(true);
    expect(until.every((d) => d.deadLetteredAt.getTime() < middle.getTime())).toBe(true);
    expect(since.length).toBeGreaterThan(0);
    // The limit keeps the oldest.
    const three = await dlq.list({ limit: 3 });
    expect(three.map((d) => d.position)).toEqual(all.slice(0, 3).map((d) => d.position));
  });

  it('rejects invalid options with one error listing every problem', async () => {
    const { app } = await twentyDeadLetters();
    const dlq = app.deadLetters(DLQ);
    const filter = { route: [], since: new Date('x'), colour: 'red' } as unknown as DeadLetterFilter;
    const error = await dlq.list({ limit: 0, filter }).catch((e: unknown) => e);
    expect(code(error)).toBe('GOMES_CONFIGURATION');
    const message = (error as Error).message;
    for (const part of ['limit must be', 'filter.route', 'filter.since', 'unknown field "colour"'])
      expect(message).toContain(part);
  });

  it('needs a started instance, a registered publisher channel and a transport that reads it back', async () => {
    const broker = new InMemoryBroker();
    const app = createGomes({ name: 'dl-errors', logger: noopLogger });
    trackApp(app);
    expect(() => app.deadLetters(DLQ)).toThrow(
      expect.objectContaining({ code: 'GOMES_ILLEGAL_STATE' }) as Error,
    );
    /** A builder of a transport that cannot read its channel back (no createReader). */
    class WriteOnlyBuilder extends PublisherChannelAdapterBuilder {
      constructor(connectionName: string, topic: string) {
        super(connectionName, topic);
      }
      acceptsConnection(): boolean {
        return true;
      }
      protected validateTransportOptions(): string[] {
        return [];
      }
      async build(context: ChannelBuildContext): Promise<PublisherChannel> {
        return inMemoryPublisher(this.connectionName, this.channelName).build(context);
      }
    }
    app
      .addChannelConnection(inMemoryConnection('memory', { broker }))
      .addPublisherChannel(new WriteOnlyBuilder('memory', 'write-only.DLQ'));
    await app.start();
    expect(() => app.deadLetters('not-registered')).toThrow(
      expect.objectContaining({ code: 'GOMES_NOT_FOUND' }) as Error,
    );
    expect(() => app.deadLetters('write-only.DLQ')).toThrow(
      expect.objectContaining({ code: 'GOMES_NOT_SUPPORTED' }) as Error,
    );
  });
});

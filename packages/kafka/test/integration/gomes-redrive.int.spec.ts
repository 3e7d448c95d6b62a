// Dead-letter redrive end to end over the real broker: 20 dead letters, 10 redriven by filter are
// handled exactly once with their original messageIds while the other 10 stay in the dead-letter
// topic (listable, redrivable); a republish that fails stops the redrive without recording
// progress past it.
import 'reflect-metadata';
import { IsInt, IsString } from 'class-validator';
import {
  Event,
  NonRetriableError,
  RedriveHeaders,
  defineEventHandler,
  readDeadLetterEnvelope,
  readRedriveMarker,
  type Gomes,
  type HandlerContext,
} from '@gomes/core';
import { holdsFor } from '@gomes/core/testing';
import {
  KAFKA_READER_GROUP_PREFIX,
  KafkaMessageTranslator,
  KafkaPublisherChannelBuilder,
} from '@gomes/kafka';
import kafkajs from 'kafkajs';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { admin, closeAll, createTopic, env, readRaw, waitFor } from '../support/kafka-harness.js';
import { consumerBuilder, kafkaGomes } from '../support/gomes-kafka.js';

afterEach(closeAll);

@Event('rd.parcelScanned')
class ParcelScanned {
  @IsString() parcelId: string;
  @IsInt() seq: number;
  constructor(parcelId: string, seq: number) {
    this.parcelId = parcelId;
    this.seq = seq;
  }
}

@Event('rd.parcelLost')
class ParcelLost {
  @IsString() parcelId: string;
  @IsString() reason: string;
  constructor(parcelId: string, reason: string) {
    this.parcelId = parcelId;
    this.reason = reason;
  }
}

interface Handled {
  readonly route: string;
  readonly messageId: string;
  readonly redriveCount: string | undefined;
}

interface Parcels {
  readonly app: Gomes;
  readonly dlq: string;
  readonly handled: Handled[];
  readonly scanner: { offline: boolean };
}

/**
 * A gomes instance consuming `topic` (dead letters to `<topic>.DLQ`) and publishing to it and to
 * `extraPublishers`. `dl.parcelScanned` fails while the scanner is offline; `dl.parcelLost` is
 * handled when valid.
 */
async function parcelsApp(
  topic: string,
  extraPublishers: KafkaPublisherChannelBuilder[] = [],
): Promise<Parcels> {
  const dlq = await createTopic(`${topic}.DLQ`, 3);
  const handled: Handled[] = [];
  const scanner = { offline: true };
  const record = (route: string, ctx: HandlerContext): void => {
    handled.push({
      route,
      messageId: ctx.messageId,
      redriveCount: ctx.headers[RedriveHeaders.REDRIVE_COUNT],
    });
  };
  const app = kafkaGomes('redrive');
  app
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', topic))
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', dlq))
    .addConsumerChannel(
      consumerBuilder(topic, 'parcel-tracker')
        .withGroupId(uniqueTopic('g-redrive'))
        .withDeadLetterChannelName(dlq),
    )
    .addActionHandler(
      defineEventHandler(ParcelScanned, (_event, ctx) => {
        if (scanner.offline) throw new NonRetriableError('scanner offline');
        record('rd.parcelScanned', ctx);
      }),
    )
    .addActionHandler(defineEventHandler(ParcelLost, (_event, ctx) => record('rd.parcelLost', ctx)));
  for (const builder of extraPublishers) app.addPublisherChannel(builder);
  await app.start();
  await app.eventDrivenConsumer('parcel-tracker').run();
  return { app, dlq, handled, scanner };
}

const sorted = (ids: readonly (string | undefined)[]): (string | undefined)[] => [...ids].sort();

describe('dead-letter redrive over Kafka', () => {
  it('20 dead letters, 10 redriven by filter: exactly those handled once with their original messageIds; the other 10 stay in the dead-letter topic, listable and redrivable', async () => {
    const topic = await createTopic(uniqueTopic('rd-parcels'), 3);
    const { app, dlq, handled, scanner } = await parcelsApp(topic);
    const events = app.eventBusByChannel(topic);
    const scanned: string[] = [];
    const lost: string[] = [];
    for (let i = 0; i < 10; i++) {
      scanned.push(await events.publish(new ParcelScanned(`s-${i}`, i), { partitionKey: `s-${i}` }));
      // Raw, so nothing validates on send: the consumer dead-letters it (reason is not a string).
      lost.push(
        await events.publishRaw(
          'rd.parcelLost',
          { parcelId: `l-${i}`, reason: i },
          { partitionKey: `l-${i}` },
        ),
      );
    }
    const consumer = app.eventDrivenConsumer('parcel-tracker');
    await waitFor(() => consumer.stats.deadLettered === 20, 60_000, { description: '20 dead letters' });

    const dead = app.deadLetters(dlq);
    const all = await dead.list();
    expect(sorted(all.map((d) => d.originalMessageId))).toEqual(sorted([...scanned, ...lost]));
    expect(new Set(all.map((d) => d.position.partition)).size).toBeGreaterThan(1);
    expect(
      sorted(
        (await dead.list({ filter: { errorCode: 'GOMES_VALIDATION' } })).map((d) => d.originalMessageId),
      ),
    ).toEqual(sorted(lost));

    scanner.offline = false;
    const report = await app.redrive({ channel: dlq, filter: { route: 'rd.parcelScanned' } });
    expect(report).toMatchObject({
      status: 'completed',
      scanned: 20,
      matched: 10,
      notAttempted: 0,
      failure: undefined,
    });
    expect(report.skipped).toEqual([]);
    expect(sorted(report.redriven.map((r) => r.messageId))).toEqual(sorted(scanned));
    expect(report.redriven.every((r) => r.targetChannel === topic && r.redriveCount === 1)).toBe(true);

    await waitFor(() => handled.length >= 10, 30_000, { description: 'the 10 redriven events are handled' });
    await holdsFor(() => handled.length === 10, 1500, { description: 'each once, nothing else' });
    expect(sorted(handled.map((h) => h.messageId))).toEqual(sorted(scanned));
    expect(handled.every((h) => h.route === 'rd.parcelScanned' && h.redriveCount === '1')).toBe(true);

    // The dead-letter topic still holds all 20 dead letters, plus one marker per redriven one.
    const translator = new KafkaMessageTranslator();
    const raw = (await readRaw(dlq, 30)).map((r) => translator.fromRecord(r));
    expect(raw.filter((m) => readDeadLetterEnvelope(m) !== undefined)).toHaveLength(20);
    expect(sorted(raw.flatMap((m) => readRedriveMarker(m)?.messageId ?? []))).toEqual(sorted(scanned));
    // The other 10 are listed as pending; the redriven ones only with includeRedriven.
    expect(sorted((await dead.list()).map((d) => d.originalMessageId))).toEqual(sorted(lost));
    const everything = await dead.list({ includeRedriven: true });
    expect(everything.filter((d) => d.redrives.length === 1).map((d) => d.route)).toEqual(
      Array(10).fill('rd.parcelScanned'),
    );

    // The same redrive again republishes nothing.
    const again = await dead.redrive({ filter: { route: 'rd.parcelScanned' } });
    expect(again.redriven).toEqual([]);
    expect(again.skipped.map((s) => s.reason)).toEqual(Array(10).fill('already-redriven'));

    // The other 10 are still redrivable: two of them go back (and, still invalid, are dead-lettered again).
    const two = await dead.redrive({ filter: { route: 'rd.parcelLost' }, limit: 2 });
    expect(two.status).toBe('limit-reached');
    expect(two.redriven).toHaveLength(2);
    expect(two.notAttempted).toBe(8);
    expect(two.redriven.every((r) => lost.includes(r.messageId))).toBe(true);
    await waitFor(() => consumer.stats.deadLettered === 22, 30_000, { description: 'dead-lettered again' });
    const back = await dead.list({ filter: { messageId: two.redriven.map((r) => r.messageId) } });
    expect(back.map((d) => d.envelope.originalHeaders[RedriveHeaders.REDRIVE_COUNT])).toEqual(['1', '1']);
    expect(handled).toHaveLength(10);

    // Every read used a throwaway group, left it and committed nothing. The broker deletes such an
    // empty group without offsets at its next offsets cleanup (every 10 min, at any moment of this
    // test), so how many are still listed varies; a group that kept a member or committed an offset
    // is never deleted, and would show here.
    const kafka = new kafkajs.Kafka({ brokers: env.brokers, logLevel: kafkajs.logLevel.NOTHING });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    try {
      const readers = (await kafkaAdmin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((g) => g.startsWith(`${KAFKA_READER_GROUP_PREFIX}${dlq}.`));
      const { groups } = await kafkaAdmin.describeGroups(readers);
      expect(groups.map((g) => [g.state, g.members.length])).toEqual(readers.map(() => ['Empty', 0]));
      for (const groupId of readers) {
        const [offsets] = await kafkaAdmin.fetchOffsets({ groupId, topics: [dlq] });
        expect(offsets!.partitions.map((p) => p.offset)).toEqual(['-1', '-1', '-1']);
      }
    } finally {
      await kafkaAdmin.disconnect();
    }
  }, 90_000);

  it('a republish that fails stops the redrive: the dead letters before it are recorded, it and the ones after stay pending', async () => {
    const topic = await createTopic(uniqueTopic('rd-big'), 1);
    // A target that refuses records over 2 KiB (non-retriable MESSAGE_TOO_LARGE).
    const target = uniqueTopic('rd-big-retry');
    const a = await admin();
    await a.createTopics([
      { topic: target, partitions: 1, replicationFactor: 1, configs: { 'max.message.bytes': '2048' } },
    ]);
    const { app, dlq } = await parcelsApp(topic, [
      new KafkaPublisherChannelBuilder('kafka', target).withMaxAttempts(2),
    ]);
    const events = app.eventBusByChannel(topic);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const parcelId = i === 2 ? `big-${'x'.repeat(5000)}` : `p-${i}`;
      ids.push(await events.publish(new ParcelScanned(parcelId, i), { partitionKey: 'one-key' }));
    }
    const consumer = app.eventDrivenConsumer('parcel-tracker');
    await waitFor(() => consumer.stats.deadLettered === 5, 60_000, { description: '5 dead letters' });
    const dead = app.deadLetters(dlq);
    expect((await dead.list()).map((d) => d.originalMessageId)).toEqual(ids);

    const report = await dead.redrive({ to: target });
    expect(report.status).toBe('failed');
    expect(report.redriven.map((r) => r.messageId)).toEqual(ids.slice(0, 2));
    expect(report.failure).toMatchObject({ messageId: ids[2], stage: 'republish', targetChannel: target });
    expect(report.failure!.error).toMatchObject({ code: 'GOMES_PUBLISH_FAILED' });
    expect(report.notAttempted).toBe(3);
    // Progress is recorded for the two before the failure only.
    expect((await dead.list()).map((d) => d.originalMessageId)).toEqual(ids.slice(2));
    const translator = new KafkaMessageTranslator();
    const onTarget = (await readRaw(target, 2)).map((r) => translator.fromRecord(r).messageId);
    expect(onTarget).toEqual(ids.slice(0, 2));

    // Dead letters a filter leaves out stay where they are: redrive the two after the failing one.
    const rest = await dead.redrive({ to: target, filter: { messageId: ids.slice(3) } });
    expect(rest.status).toBe('completed');
    expect(rest.redriven.map((r) => r.messageId)).toEqual(ids.slice(3));
    expect((await dead.list()).map((d) => d.originalMessageId)).toEqual([ids[2]]);
  }, 90_000);
});

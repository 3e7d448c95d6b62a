import assert from 'node:assert/strict';
import type { ChannelReader, ChannelReadOptions, ChannelRecord } from '../channel/channel-reader.js';
import { isGomesError } from '../errors/gomes-error.js';
import type { Message } from '../message/message.js';
import type { ScenarioSuite } from './scenario-setup.js';
import { keyed } from './transport-contract.js';
import { withTimeout } from './wait-for.js';

/** Every record of a bounded read. */
async function readAll(reader: ChannelReader, options?: ChannelReadOptions): Promise<ChannelRecord[]> {
  const records: ChannelRecord[] = [];
  for await (const record of reader.read(options)) records.push(record);
  return records;
}

function idsOf(records: readonly ChannelRecord[]): string[] {
  return records.map((r) =>
    r.kind === 'message' ? r.message.messageId : `undecodable@${r.position.offset}`,
  );
}

/**
 * The bounded-read scenarios of the transport contract suite (`ChannelReader`: what a replay and
 * `gomes.deadLetters()` read with), registered when the transport has `features.boundedReads`.
 *
 * @internal
 */
export function registerReaderScenarios({ test, factory, features, timeoutMs }: ScenarioSuite): void {
  test(
    'a bounded read yields every record up to the end captured when it began, then stops',
    async (h) => {
      const topic = await factory.uniqueTopic(features.partitions ? 3 : 1);
      const publisher = await h.publisher(topic);
      const sent = Array.from({ length: 24 }, (_, i) => keyed(`key-${i % 8}`, { i }));
      for (const m of sent) await publisher.send(m);
      const records: ChannelRecord[] = [];
      const late: Message[] = [];
      for await (const record of h.reader(topic).read()) {
        records.push(record);
        // Appended after the read began: beyond the captured end, never read.
        if (late.length === 0) {
          for (let i = 0; i < 3; i++) late.push(keyed(`key-${i}`, { late: i }));
          for (const m of late) await publisher.send(m);
        }
      }
      assert.deepEqual(
        idsOf(records).sort(),
        sent.map((m) => m.messageId).sort(),
        'exactly the records sent before',
      );
      const byPartition = new Map<number, bigint[]>();
      for (const r of records) {
        assert.equal(r.kind, 'message');
        assert.equal(r.position.channel, topic);
        assert.ok(r.timestamp instanceof Date && !Number.isNaN(r.timestamp.getTime()), 'a record timestamp');
        byPartition.set(r.position.partition, [
          ...(byPartition.get(r.position.partition) ?? []),
          BigInt(r.position.offset),
        ]);
      }
      for (const [partition, offsets] of byPartition) {
        assert.deepEqual(
          offsets,
          [...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
          `offset order in partition ${partition}`,
        );
      }
      const first = records.find((r) => r.kind === 'message' && r.message.messageId === sent[5]!.messageId);
      assert.ok(first?.kind === 'message');
      assert.deepEqual(first.message.payload, { i: 5 });
      assert.equal(first.message.header('contract-kind'), 'data');
      // A second read, begun now, sees the late records too.
      assert.equal(idsOf(await readAll(h.reader(topic))).length, sent.length + late.length);
    },
    features.boundedReads,
  );

  test(
    'a bounded read starts at given offsets, or at the first record at or after a timestamp',
    async (h) => {
      const topic = await factory.uniqueTopic(1);
      const publisher = await h.publisher(topic);
      const sent = Array.from({ length: 8 }, (_, i) => keyed('k', { i }));
      for (const m of sent) await publisher.send(m);
      const reader = h.reader(topic);
      const all = await readAll(reader);
      assert.deepEqual(
        idsOf(all),
        sent.map((m) => m.messageId),
      );
      const fromOffset = await readAll(reader, {
        start: { kind: 'offsets', offsets: { 0: all[3]!.position.offset } },
      });
      assert.deepEqual(idsOf(fromOffset), idsOf(all.slice(3)));
      const pastEnd = await readAll(reader, { start: { kind: 'offsets', offsets: { 0: '1000000' } } });
      assert.deepEqual(pastEnd, []);
      const at = all[5]!.timestamp;
      const firstAtOrAfter = all.findIndex((r) => r.timestamp.getTime() >= at.getTime());
      const fromTime = await readAll(reader, { start: { kind: 'timestamp', timestamp: at } });
      assert.deepEqual(idsOf(fromTime), idsOf(all.slice(firstAtOrAfter)));
      const future = await readAll(reader, {
        start: { kind: 'timestamp', timestamp: new Date(Date.now() + 3_600_000) },
      });
      assert.deepEqual(future, []);
      await assert.rejects(
        readAll(reader, { start: { kind: 'offsets', offsets: { 0: '-1' } } }),
        (e: unknown) => isGomesError(e) && e.code === 'GOMES_CONFIGURATION',
      );
    },
    features.boundedReads,
  );

  test(
    'a bounded read with an end timestamp stops before the first record at or after it',
    async (h) => {
      const topic = await factory.uniqueTopic(features.partitions ? 2 : 1);
      const publisher = await h.publisher(topic);
      const sent = Array.from({ length: 12 }, (_, i) => keyed(`key-${i % 4}`, { i }));
      for (const m of sent) await publisher.send(m);
      const reader = h.reader(topic);
      const all = await readAll(reader);
      const at = all.find(
        (r) => r.kind === 'message' && r.message.messageId === sent[6]!.messageId,
      )!.timestamp;
      // Per partition: every record before its first one at or after `at`.
      const expected = [...new Set(all.map((r) => r.position.partition))].flatMap((partition) => {
        const records = all.filter((r) => r.position.partition === partition);
        const end = records.findIndex((r) => r.timestamp.getTime() >= at.getTime());
        return end === -1 ? records : records.slice(0, end);
      });
      const ended = await readAll(reader, { end: { kind: 'timestamp', timestamp: at } });
      assert.deepEqual(idsOf(ended).sort(), idsOf(expected).sort());
      assert.ok(ended.length < all.length, 'the record at the end timestamp is not read');
      const windowed = await readAll(reader, {
        start: {
          kind: 'timestamp',
          timestamp: new Date(Math.min(...all.map((r) => r.timestamp.getTime()))),
        },
        end: { kind: 'timestamp', timestamp: new Date(Date.now() + 3_600_000) },
      });
      assert.equal(windowed.length, all.length, 'an end in the future reads up to the captured end');
      await assert.rejects(
        readAll(reader, { end: { kind: 'timestamp', timestamp: new Date(Number.NaN) } }),
        (e: unknown) => isGomesError(e) && e.code === 'GOMES_CONFIGURATION',
      );
    },
    features.boundedReads,
  );

  test(
    'a bounded read of an empty channel ends at once; of a missing one fails with GOMES_NOT_FOUND',
    async (h) => {
      const topic = await factory.uniqueTopic(features.partitions ? 2 : 1);
      assert.deepEqual(
        await withTimeout(readAll(h.reader(topic)), timeoutMs, 'reading an empty channel'),
        [],
      );
      await assert.rejects(
        readAll(h.reader(`${topic}-missing`)),
        (e: unknown) => isGomesError(e) && e.code === 'GOMES_NOT_FOUND',
      );
    },
    features.boundedReads,
  );

  test(
    'an aborted bounded read fails with GOMES_ABORTED',
    async (h) => {
      const topic = await factory.uniqueTopic(1);
      const publisher = await h.publisher(topic);
      for (let i = 0; i < 5; i++) await publisher.send(keyed('k', { i }));
      const controller = new AbortController();
      const seen: ChannelRecord[] = [];
      await assert.rejects(
        (async () => {
          for await (const record of h.reader(topic).read({ signal: controller.signal })) {
            seen.push(record);
            controller.abort();
          }
        })(),
        (e: unknown) => isGomesError(e) && e.code === 'GOMES_ABORTED',
      );
      assert.equal(seen.length, 1, 'nothing is yielded after the abort');
    },
    features.boundedReads,
  );

  test(
    'a bounded read yields an undecodable record as such, with the reason, and goes on',
    async (h) => {
      const topic = await factory.uniqueTopic(1);
      const publisher = await h.publisher(topic);
      const before = keyed('k', { i: 0 });
      const after = keyed('k', { i: 2 });
      await publisher.send(before);
      await factory.publishUndecodable!(topic, 'k');
      await publisher.send(after);
      const records = await readAll(h.reader(topic));
      assert.deepEqual(
        records.map((r) => r.kind),
        ['message', 'undecodable', 'message'],
      );
      const bad = records[1]!;
      assert.ok(bad.kind === 'undecodable');
      assert.ok(isGomesError(bad.error) && bad.error.code === 'GOMES_TRANSLATION_FAILED', 'the reason');
      assert.equal(bad.position.offset, '1');
      assert.deepEqual(idsOf([records[0]!, records[2]!]), [before.messageId, after.messageId]);
    },
    features.boundedReads && factory.publishUndecodable !== undefined,
  );
}

import { MessageBuilder, isGomesError, noopLogger, type Message } from '@gomes/core';
import { waitFor } from '@gomes/core/testing';
import type { DriverOutboundRecord, DriverProduceRequest, DriverProducer } from './driver/kafka-driver.js';
import { producerRequestTimeoutMs } from './driver/kafkajs-driver.js';
import { KafkaMessageTranslator, type KafkaOutboundRecord } from './kafka-message-translator.js';
import { KafkaPublisherChannel } from './kafka-publisher-channel.js';
import type { SerializationContext } from './message-serializer.js';
import { DEFAULT_KAFKA_PUBLISHER_OPTIONS, type KafkaPublisherOptions } from './kafka-publisher-options.js';
import { FakeProducer, fakeDriver } from '../test/support/fake-kafka-driver.js';

const msg = (i: number) => MessageBuilder.withPayload({ i }).build();

function publisher(
  options: Partial<KafkaPublisherOptions>,
  onSend?: (request: DriverProduceRequest, producer: FakeProducer) => void | Promise<void>,
) {
  const { driver, producers } = fakeDriver(onSend);
  const o = { ...DEFAULT_KAFKA_PUBLISHER_OPTIONS, ...options };
  const create = () =>
    driver.createProducer({
      idempotent: o.idempotent,
      maxAttempts: o.maxAttempts,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      produceTimeoutMs: o.requestTimeoutMs,
    });
  const channel = new KafkaPublisherChannel('t', create(), o, undefined, noopLogger, create);
  return { channel, producers };
}

const timedOut = (): Error => Object.assign(new Error('Request timed out'), { type: 'REQUEST_TIMED_OUT' });

describe('KafkaPublisherChannel (fake driver)', () => {
  it('hands the translated record to the driver as it is: one record object per message, no copies', async () => {
    const made: KafkaOutboundRecord[] = [];
    class Recording extends KafkaMessageTranslator {
      override toRecord(message: Message, context?: SerializationContext): KafkaOutboundRecord {
        const record = super.toRecord(message, context);
        made.push(record);
        return record;
      }
    }
    const { channel, producers } = publisher({ translator: new Recording() });
    await Promise.all([channel.send(msg(1)), channel.send(msg(2)), channel.send(msg(3))]);
    const sent = producers[0]!.sent.flatMap((request) => request.records);
    expect(sent).toHaveLength(3);
    sent.forEach((record, i) => expect(record).toBe(made[i]));
    expect(producers[0]!.sent).toHaveLength(1); // sends of one tick share one request
    await channel.close();
  });

  it('hands a driver that prepares records the prepared record, prepared when the message is sent (while an earlier request is under way), once per message', async () => {
    const requests: { records: readonly DriverOutboundRecord[]; ack: () => void }[] = [];
    const prepared: { record: DriverOutboundRecord; requestsUnderWay: number }[] = [];
    const producer: DriverProducer = {
      connect: async () => undefined,
      prepare: (record) => {
        const made = { ...record };
        prepared.push({ record: made, requestsUnderWay: requests.length });
        return made;
      },
      send: async (request) =>
        new Promise((resolve) => {
          requests.push({ records: request.records, ack: () => resolve([]) });
        }),
      flush: async () => undefined,
      close: async () => undefined,
    };
    const channel = new KafkaPublisherChannel(
      't',
      producer,
      DEFAULT_KAFKA_PUBLISHER_OPTIONS,
      undefined,
      noopLogger,
    );
    const first = channel.send(msg(1));
    await waitFor(() => requests.length === 1);
    const second = channel.send(msg(2)); // prepared now, while the first request is with the broker
    const third = channel.send(msg(3));
    expect(prepared.map((p) => p.requestsUnderWay)).toEqual([0, 1, 1]);
    requests[0]!.ack();
    await waitFor(() => requests.length === 2);
    requests[1]!.ack();
    await Promise.all([first, second, third]);
    const sent = requests.flatMap((r) => r.records);
    expect(sent).toHaveLength(3);
    sent.forEach((record, i) => expect(record).toBe(prepared[i]!.record));
    await channel.close();
  });

  it('resolves the sends of an acknowledged request once the next request is under way, in order; at once when none is left', async () => {
    // A producer whose requests are acknowledged by the test.
    const requests: { records: number; ack: () => void }[] = [];
    const producer: DriverProducer = {
      connect: async () => undefined,
      send: async (request) =>
        new Promise((resolve) => {
          requests.push({ records: request.records.length, ack: () => resolve([]) });
        }),
      flush: async () => undefined,
      close: async () => undefined,
    };
    const options = { ...DEFAULT_KAFKA_PUBLISHER_OPTIONS, batchSize: 2 };
    const channel = new KafkaPublisherChannel('t', producer, options, undefined, noopLogger);
    const resolved: number[] = [];
    const requestsWhenResolved: number[] = [];
    const sends = [1, 2, 3, 4, 5].map(async (i) => {
      await channel.send(msg(i));
      resolved.push(i);
      requestsWhenResolved.push(requests.length);
    });
    await waitFor(() => requests.length === 1);
    expect(requests[0]!.records).toBe(2);
    requests[0]!.ack();
    await waitFor(() => resolved.length === 2);
    // 1 and 2 were resolved after the request of 3 and 4 had been handed to the producer.
    expect(requestsWhenResolved).toEqual([2, 2]);
    requests[1]!.ack();
    await waitFor(() => resolved.length === 4);
    requests[2]!.ack(); // the last request (5 alone): nothing after it, resolved at once
    await Promise.all(sends);
    expect(resolved).toEqual([1, 2, 3, 4, 5]);
    expect(requests.map((r) => r.records)).toEqual([2, 2, 1]);
    await channel.close();
  });

  it('a lone awaited send resolves right after its ack, without waiting for another turn of the event loop', async () => {
    let ack: () => void = () => undefined;
    const producer: DriverProducer = {
      connect: async () => undefined,
      send: async () => new Promise((resolve) => (ack = () => resolve([]))),
      flush: async () => undefined,
      close: async () => undefined,
    };
    const channel = new KafkaPublisherChannel(
      't',
      producer,
      DEFAULT_KAFKA_PUBLISHER_OPTIONS,
      undefined,
      noopLogger,
    );
    let done = false;
    const sent = channel.send(msg(1)).then(() => (done = true));
    await new Promise<void>((resolve) => setImmediate(resolve)); // the scheduled request goes out
    ack();
    for (let i = 0; i < 20 && !done; i++) await Promise.resolve(); // microtasks only
    expect(done).toBe(true);
    await sent;
    await channel.close();
  });

  it("keeps every request within batchBytes by the records' UTF-8 size, as full as it fits", async () => {
    const { channel, producers } = publisher({ batchBytes: 3000 });
    const wide = (i: number) => MessageBuilder.withPayload({ i, text: 'é'.repeat(300) }).build(); // 2 bytes per é
    await Promise.all(Array.from({ length: 12 }, async (_, i) => channel.send(wide(i))));
    const size = (r: DriverProduceRequest['records'][number]): number =>
      Buffer.byteLength(r.key as string) +
      Buffer.byteLength(r.value as string) +
      Object.entries(r.headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    const requests = producers[0]!.sent.map((request) => request.records.map(size));
    expect(requests.flat()).toHaveLength(12);
    const total = (sizes: number[]): number => sizes.reduce((a, b) => a + b, 0);
    requests.forEach((sizes, i) => {
      expect(total(sizes)).toBeLessThanOrEqual(3000);
      const next = requests[i + 1]?.[0];
      if (next !== undefined) expect(total(sizes) + next).toBeGreaterThan(3000); // as full as it fits
    });
    expect(requests.length).toBeGreaterThan(3); // counting UTF-16 units (~half the bytes) would fit more
    await channel.close();
  });

  it('replaces an idempotent producer (new producer id) after a failed send, closing the old one', async () => {
    let failNext = true;
    const { channel, producers } = publisher({}, () => {
      if (failNext) {
        failNext = false;
        throw timedOut();
      }
    });
    // A request that timed out may have been written: its outcome is unknown.
    await expect(channel.send(msg(1))).rejects.toMatchObject({
      code: 'GOMES_PUBLISH_OUTCOME_UNKNOWN',
      retriable: true,
    });
    await channel.send(msg(2));
    expect(producers).toHaveLength(2);
    expect(producers.map((p) => [p.sent.length, p.closed, p.connected])).toEqual([
      [1, true, false],
      [1, false, true],
    ]);
    await channel.send(msg(3)); // no failure: the producer is kept
    expect(producers).toHaveLength(2);
    await channel.close();
    expect(producers[1]!.closed).toBe(true);
  });

  it('keeps a non-idempotent producer after a failed send', async () => {
    let failNext = true;
    const { channel, producers } = publisher({ idempotent: false, requiredAcks: 1 }, () => {
      if (failNext) {
        failNext = false;
        throw timedOut();
      }
    });
    await expect(channel.send(msg(1))).rejects.toMatchObject({ code: 'GOMES_PUBLISH_OUTCOME_UNKNOWN' });
    await channel.send(msg(2));
    expect(producers).toHaveLength(1);
    await channel.close();
  });

  it('async mode: a send waiting for buffer room rejects GOMES_ABORTED when its signal aborts, and is not sent', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { channel, producers } = publisher({
      async: true,
      maxBufferedMessages: 1,
      batchSize: 1,
      lingerMs: 0,
    });
    const first = producers[0]!;
    const send = first.send.bind(first);
    first.send = async (request) => {
      await gate;
      return send(request);
    };
    await channel.send(msg(1)); // in the (held) produce request
    await new Promise((r) => setImmediate(r));
    await channel.send(msg(2)); // fills the buffer
    const controller = new AbortController();
    const waiting = channel.send(msg(3), { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const error: unknown = await waiting.catch((e: unknown) => e);
    expect(isGomesError(error) && error.code).toBe('GOMES_ABORTED');
    release();
    await channel.flush();
    expect(channel.stats.sent).toBe(2);
    await channel.close();
  });

  it('says whether sends are confirmed: yes in sync mode, no in async mode (resolved on enqueue)', async () => {
    const sync = publisher({}).channel;
    const async = publisher({ async: true }).channel;
    expect([sync.confirmsSends, async.confirmsSends]).toEqual([true, false]);
    await Promise.all([sync.close(), async.close()]);
  });

  it('fails a request the broker rejected for good with GOMES_PUBLISH_FAILED, not retriable (not written)', async () => {
    const tooLarge = Object.assign(
      new Error('The request included a message larger than the max message size'),
      {
        type: 'MESSAGE_TOO_LARGE',
      },
    );
    const { channel } = publisher({}, () => {
      throw tooLarge;
    });
    await expect(channel.send(msg(1))).rejects.toMatchObject({
      code: 'GOMES_PUBLISH_FAILED',
      retriable: false,
    });
    await channel.close();
  });

  it('withSendTimeout: a send whose request is under way settles at its timeout with GOMES_PUBLISH_OUTCOME_UNKNOWN; the sends buffered behind it fail with GOMES_PUBLISH_FAILED and are never sent', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { channel, producers } = publisher({ sendTimeoutMs: 200, batchSize: 1 }, async (request) => {
      if ((JSON.parse(request.records[0]!.value!.toString()) as { i: number }).i === 1) await held;
    });
    const t0 = Date.now();
    const first = channel.send(msg(1)).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    const second = channel.send(msg(2)).catch((e: unknown) => e); // buffered behind the held request
    const [e1, e2] = await Promise.all([first, second]);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    expect(e1).toMatchObject({ code: 'GOMES_PUBLISH_OUTCOME_UNKNOWN', retriable: true });
    expect((e1 as Error).message).toMatch(/timed out after 200 ms .*may or may not have been written/);
    expect(e2).toMatchObject({ code: 'GOMES_PUBLISH_FAILED' });
    expect((e2 as Error).message).toMatch(/before they were sent; they were not written/);
    expect(channel.stats).toMatchObject({ failed: 2, timedOut: 2, sent: 0 });
    release(); // the broker acknowledges the first one late: counted, the caller was answered already
    await channel.flush();
    expect(channel.stats).toMatchObject({ sent: 1, failed: 2 });
    expect(producers[0]!.sent).toHaveLength(1); // the timed-out buffered send never left
    await channel.send(msg(3)); // the channel goes on
    await channel.close();
  });

  it('withSendTimeout: a send that times out while its replacement producer is still connecting was never sent: GOMES_PUBLISH_FAILED', async () => {
    let failNext = true;
    const { channel, producers } = publisher({ sendTimeoutMs: 150 }, () => {
      if (failNext) {
        failNext = false;
        throw timedOut();
      }
    });
    await expect(channel.send(msg(1))).rejects.toMatchObject({ code: 'GOMES_PUBLISH_OUTCOME_UNKNOWN' });
    let connected!: () => void;
    const connecting = new Promise<void>((r) => (connected = r));
    // The next request needs a new producer, whose connect hangs (broker unreachable).
    const connect = FakeProducer.prototype.connect;
    FakeProducer.prototype.connect = async function (this: FakeProducer) {
      await connecting;
      return connect.call(this);
    };
    let error: unknown;
    try {
      error = await channel.send(msg(2)).catch((e: unknown) => e);
    } finally {
      FakeProducer.prototype.connect = connect;
    }
    const replacement = producers[1]!;
    expect(error).toMatchObject({ code: 'GOMES_PUBLISH_FAILED' });
    expect((error as Error).message).toMatch(/before they were sent; they were not written/);
    connected();
    await channel.send(msg(3));
    expect(replacement.sent).toHaveLength(1); // only msg 3 was ever sent through it
    await channel.close();
  });

  it('withSendTimeout, async mode: a buffered record past its timeout is dropped and reported (not written); a send waiting for room fails at its timeout', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { channel, producers } = publisher(
      { async: true, sendTimeoutMs: 1000, maxBufferedMessages: 1, batchSize: 1, lingerMs: 0 },
      async () => held,
    );
    const errors: Error[] = [];
    channel.onError((e) => errors.push(e));
    await channel.send(msg(1)); // in the held request
    await new Promise((r) => setImmediate(r));
    await channel.send(msg(2)); // buffered
    // No room until msg 2 times out (1 s: long enough that it cannot time out before this send
    // starts waiting, even on a loaded machine).
    const waiting = channel.send(msg(3)).catch((e: unknown) => e); // no room
    expect(await waiting).toMatchObject({ code: 'GOMES_PUBLISH_FAILED' });
    await waitFor(() => errors.length >= 2, 2000);
    expect(errors.map((e) => (e as { code?: string }).code).sort()).toEqual([
      'GOMES_PUBLISH_FAILED', // msg 2, dropped from the buffer
      'GOMES_PUBLISH_OUTCOME_UNKNOWN', // msg 1, its request under way
    ]);
    release();
    await channel.flush();
    expect(producers[0]!.sent).toHaveLength(1);
    expect(channel.stats).toMatchObject({ sent: 1, failed: 3, timedOut: 3, buffered: 0 });
    await channel.close();
  });

  it('keeps the client request timeout of a producer clearly above its produce timeout', () => {
    expect(producerRequestTimeoutMs(30000, 30000)).toBe(36000);
    expect(producerRequestTimeoutMs(30000, 10000)).toBe(30000);
    expect(producerRequestTimeoutMs(10000, 10000)).toBe(15000);
    expect(producerRequestTimeoutMs(120000, 60000)).toBe(120000);
  });
});

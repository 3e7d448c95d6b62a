import { MessageBuilder, isGomesError, noopLogger } from '@gomes/core';
import { waitFor } from '@gomes/core/testing';
import type { DriverProduceRequest } from './driver/kafka-driver.js';
import { producerRequestTimeoutMs } from './driver/kafkajs-driver.js';
import { KafkaPublisherChannel } from './kafka-publisher-channel.js';
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
      { async: true, sendTimeoutMs: 150, maxBufferedMessages: 1, batchSize: 1, lingerMs: 0 },
      async () => held,
    );
    const errors: Error[] = [];
    channel.onError((e) => errors.push(e));
    await channel.send(msg(1)); // in the held request
    await new Promise((r) => setImmediate(r));
    await channel.send(msg(2)); // buffered
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

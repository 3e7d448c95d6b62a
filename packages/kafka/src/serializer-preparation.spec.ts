// Unit tests of the optional async hooks of MessageSerializer (prepareSerialize / prepareDeserialize /
// preflight) through the Kafka channels on a fake driver: what a schema-registry serializer relies on.
import {
  GomesError,
  MessageBuilder,
  isGomesError,
  noopLogger,
  type Delivery,
  type Message,
} from '@gomes/core';
import { waitFor } from '@gomes/core/testing';
import { KafkaConsumerChannelBuilder } from './kafka-consumer-channel-builder.js';
import { KafkaHeaders } from './kafka-headers.js';
import { KafkaMessageTranslator } from './kafka-message-translator.js';
import { KafkaPublisherChannel } from './kafka-publisher-channel.js';
import { KafkaPublisherChannelBuilder } from './kafka-publisher-channel-builder.js';
import { DEFAULT_KAFKA_PUBLISHER_OPTIONS } from './kafka-publisher-options.js';
import {
  JsonMessageSerializer,
  type MessageSerializer,
  type SerializationContext,
  type SerializerPreflightContext,
} from './message-serializer.js';
import { fakeDriver, setup } from '../test/support/fake-kafka-driver.js';

/** A JSON serializer that must "load" something per route (publish) or per value (consume) first. */
class LoadingSerializer extends JsonMessageSerializer implements MessageSerializer {
  readonly loaded = new Set<string>();
  readonly loads: string[] = [];
  readonly contexts: SerializationContext[] = [];
  readonly gates = new Map<string, { promise: Promise<void>; open: () => void; fail: (e: Error) => void }>();
  /** Inbound: how each attempt for a value ends ('ok', or an error to throw). */
  inbound: (value: string, attempt: number) => 'ok' | Error = () => 'ok';
  readonly inboundAttempts = new Map<string, number>();

  gate(key: string): { open: () => void; fail: (e: Error) => void } {
    let open!: () => void;
    let fail!: (e: Error) => void;
    const promise = new Promise<void>((resolve, reject) => {
      open = resolve;
      fail = reject;
    });
    this.gates.set(key, { promise, open, fail });
    return { open, fail };
  }

  override serialize(message: Message, context?: SerializationContext): Buffer | string | null {
    if (!this.loaded.has(message.route ?? '')) throw new Error(`serialize before prepare (${message.route})`);
    if (context) this.contexts.push(context);
    return super.serialize(message);
  }

  prepareSerialize(message: Message): Promise<void> | undefined {
    const route = message.route ?? '';
    if (this.loaded.has(route)) return undefined;
    this.loads.push(route);
    const gate = this.gates.get(route);
    return (gate?.promise ?? Promise.resolve()).then(() => void this.loaded.add(route));
  }

  override deserialize(value: Buffer | null): unknown {
    if (!this.loaded.has(value!.toString())) throw new Error('deserialize before prepare');
    return super.deserialize(value);
  }

  prepareDeserialize(value: Buffer | null): Promise<void> | undefined {
    const key = value!.toString();
    if (this.loaded.has(key)) return undefined;
    const attempt = (this.inboundAttempts.get(key) ?? 0) + 1;
    this.inboundAttempts.set(key, attempt);
    const outcome = this.inbound(key, attempt);
    if (outcome !== 'ok') return Promise.reject(outcome);
    return Promise.resolve().then(() => void this.loaded.add(key));
  }
}

const event = (route: string, n: number): Message =>
  MessageBuilder.withPayload({ n }).messageType('Event').route(route).build();

function publisher(serializer: MessageSerializer) {
  const { driver, producers } = fakeDriver();
  const options = { ...DEFAULT_KAFKA_PUBLISHER_OPTIONS, translator: new KafkaMessageTranslator(serializer) };
  const create = () =>
    driver.createProducer({
      idempotent: true,
      maxAttempts: 2,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      produceTimeoutMs: 1000,
    });
  const channel = new KafkaPublisherChannel('orders', create(), options, undefined, noopLogger, create);
  const sent = () =>
    producers.flatMap((p) => p.sent.flatMap((r) => r.records.map((x) => x.value!.toString())));
  return { channel, sent };
}

const unavailable = () =>
  new GomesError('SCHEMA_REGISTRY_FAILED', 'registry unreachable (ECONNREFUSED)', { retriable: true });

describe('serializers with I/O: prepareSerialize', () => {
  it('awaits the preparation before encoding, passes the topic, and keeps send order behind a pending preparation', async () => {
    const serializer = new LoadingSerializer();
    const { channel, sent } = publisher(serializer);
    const slow = serializer.gate('a');
    const first = channel.send(event('a', 1)); // waits for "a"
    serializer.loaded.add('b'); // "b" needs nothing ...
    const second = channel.send(event('b', 2)); // ... but must not overtake the first send
    await new Promise((r) => setTimeout(r, 20));
    expect(sent()).toEqual([]);
    slow.open();
    await Promise.all([first, second]);
    await channel.send(event('a', 3)); // loaded: the hot path, nothing awaited
    expect(sent()).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(serializer.loads).toEqual(['a']);
    expect(serializer.contexts.map((c) => c.topic)).toEqual(['orders', 'orders', 'orders']);
    await channel.close();
  });

  it('fails the send with the serializer error when its preparation fails, without holding up later sends', async () => {
    const serializer = new LoadingSerializer();
    const { channel, sent } = publisher(serializer);
    serializer.gate('a').fail(unavailable());
    serializer.loaded.add('b');
    const results = await Promise.allSettled([channel.send(event('a', 1)), channel.send(event('b', 2))]);
    expect(results[0].status).toBe('rejected');
    const error = (results[0] as PromiseRejectedResult).reason as GomesError;
    expect([error.code, error.retriable]).toEqual(['GOMES_SCHEMA_REGISTRY_FAILED', true]);
    expect(results[1].status).toBe('fulfilled');
    expect(sent()).toEqual(['{"n":2}']);

    serializer.gate('c').fail(new Error('no schema for route c'));
    const plain = await channel.send(event('c', 3)).catch((e: unknown) => e);
    expect(isGomesError(plain) && [plain.code, plain.retriable]).toEqual(['GOMES_TRANSLATION_FAILED', false]);
    await channel.close();
  });
});

describe('serializers with I/O: prepareDeserialize', () => {
  it('retries a retriable preparation failure with backoff, keeping the record (not dead-lettered), and reports each failure', async () => {
    const serializer = new LoadingSerializer();
    serializer.inbound = (value, attempt) => (value === '{"o":0}' && attempt <= 2 ? unavailable() : 'ok');
    const { channel, consumers, producers } = setup({ translator: new KafkaMessageTranslator(serializer) });
    const errors: Error[] = [];
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => void got.push(d), { onError: (e) => errors.push(e) });
    await consumers[0]!.deliver(0, [0, 1], undefined, (o) => Buffer.from(`{"o":${o}}`));
    await waitFor(() => got.length === 2, 10_000);
    expect(got.map((d) => d.message.payload)).toEqual([{ o: 0 }, { o: 1 }]); // in order, none lost
    expect(serializer.inboundAttempts.get('{"o":0}')).toBe(3);
    expect(errors).toHaveLength(2);
    expect(
      errors.every((e) => isGomesError(e) && e.code === 'GOMES_SCHEMA_REGISTRY_FAILED' && e.retriable),
    ).toBe(true);
    expect(errors[0]!.message).toMatch(/t\/0@0 cannot be decoded yet \(attempt 1\).*retries in 500 ms/);
    expect(producers).toHaveLength(0); // nothing dead-lettered
    await channel.close();
  });

  it('dead-letters a record whose preparation fails for good as undecodable, and moves on', async () => {
    const serializer = new LoadingSerializer();
    serializer.inbound = (value) =>
      value === '{"o":1}' ? new GomesError('SCHEMA_NOT_FOUND', 'schema id 99 is not in the registry') : 'ok';
    const { channel, consumers, producers } = setup({ translator: new KafkaMessageTranslator(serializer) });
    const got: Delivery[] = [];
    await channel.subscribe(async (d) => {
      got.push(d);
      await d.ack();
    });
    const c = consumers[0]!;
    await c.deliver(0, [0, 1, 2], undefined, (o) => Buffer.from(`{"o":${o}}`));
    await waitFor(() => got.length === 2 && c.lastCommit(0) === '3');
    expect(got.map((d) => d.message.payload)).toEqual([{ o: 0 }, { o: 2 }]);
    expect(serializer.inboundAttempts.get('{"o":1}')).toBe(1); // not retried
    const dead = producers[0]!.sent[0]!;
    expect(dead.topic).toBe('t.dlq');
    expect(dead.records[0]!.value!.toString()).toBe('{"o":1}');
    expect(dead.records[0]!.headers[KafkaHeaders.DLQ_ERROR_CODE]).toBe('GOMES_TRANSLATION_FAILED');
    expect(dead.records[0]!.headers[KafkaHeaders.DLQ_REASON]).toBe(
      'Cannot decode record t/0@1: schema id 99 is not in the registry',
    );
    expect(channel.deadLettered).toBe(1);
    await channel.close();
  });
});

describe('serializers with I/O: preflight', () => {
  it('the Kafka builders run the serializer preflight with their role, topics and channel name', async () => {
    const seen: SerializerPreflightContext[] = [];
    const serializer: MessageSerializer = Object.assign(new JsonMessageSerializer(), {
      preflight: async (context: SerializerPreflightContext) => {
        seen.push(context);
        return [`${context.channel}: problem`];
      },
    });
    const pub = new KafkaPublisherChannelBuilder('kafka', 'orders').withSerializer(serializer);
    const sub = new KafkaConsumerChannelBuilder('kafka', 'orders', 'billing')
      .withGroupTopics('orders', 'refunds')
      .withSerializer(serializer);
    expect(await pub.preflight({ logger: noopLogger })).toEqual(['publisher "orders": problem']);
    expect(await sub.preflight({ logger: noopLogger })).toEqual(['consumer "billing": problem']);
    expect(seen.map((c) => [c.role, c.topics])).toEqual([
      ['publisher', ['orders']],
      ['consumer', ['orders', 'refunds']],
    ]);
    expect(await new KafkaPublisherChannelBuilder('kafka', 'x').preflight({ logger: noopLogger })).toEqual(
      [],
    );
  });
});

// Observability end to end over the real broker: one trace from the requester's bus call through
// Kafka to the responder's consumer and handler and back through the reply (in-memory span exporter,
// parent/child links asserted), and the Kafka attributes (key, partition, offset, consumer group).
import 'reflect-metadata';
import {
  Action,
  Command,
  defineCommandHandler,
  MessagingAttributes as A,
  MessagingSpanEvents,
} from '@gomes/core';
import { KafkaPublisherChannelBuilder } from '@gomes/kafka';
import {
  isChildOf,
  OtelTestKit,
  registerOtelGlobals,
  SpanKind,
} from '../../../core/test/support/otel-test-kit.js';
import { uniqueTopic } from '../support/kafka-test-env.js';
import { closeAll, createTopic, waitFor } from '../support/kafka-harness.js';
import { consumerBuilder, kafkaGomes } from '../support/gomes-kafka.js';

@Command('obs.reserve')
class Reserve extends Action<string> {
  constructor(readonly sku: string) {
    super();
  }
}

let undoGlobals: () => void;
let kit: OtelTestKit;
beforeAll(() => (undoGlobals = registerOtelGlobals()));
afterAll(() => undoGlobals());
beforeEach(() => (kit = new OtelTestKit()));
afterEach(async () => {
  await closeAll();
  await kit.shutdown();
});

it('one trace id across producer, Kafka, consumer, handler and reply spans with correct parent/child links', async () => {
  const requests = await createTopic(uniqueTopic('obs-requests'), 2);
  const replies = await createTopic(uniqueTopic('obs-replies'), 1);
  const responderGroup = uniqueTopic('obs-responder');

  const responder = kafkaGomes('responder', { tracing: true, tracerProvider: kit.tracerProvider })
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', replies))
    .addConsumerChannel(consumerBuilder(requests, responderGroup))
    .addActionHandler(defineCommandHandler(Reserve, (c) => `reserved:${c.sku}`));
  const requester = kafkaGomes('requester', { tracerProvider: kit.tracerProvider })
    .enableOtelTrace()
    .addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', requests).withReplyChannelName(replies))
    .addConsumerChannel(consumerBuilder(replies, uniqueTopic('obs-requester-replies')));
  await Promise.all([responder.start(), requester.start()]);
  await responder.eventDrivenConsumer(responderGroup).run();

  const result = await requester
    .commandBusByChannel(requests)
    .send(new Reserve('sku-7'), { correlationId: 'conv-obs', partitionKey: 'order-7' });
  expect(result).toBe('reserved:sku-7');
  await waitFor(
    () => kit.named(`process ${replies}`).length === 1 && kit.named(`process ${requests}`).length === 1,
    20_000,
  );

  const request = kit.one('request obs.reserve');
  const send = kit.one(`send ${requests}`);
  const process = kit.one(`process ${requests}`);
  const handle = kit.one('handle obs.reserve');
  const replySend = kit.one(`send ${replies}`);
  const replyProcess = kit.one(`process ${replies}`);

  const traceId = request.spanContext().traceId;
  for (const span of [send, process, handle, replySend, replyProcess])
    expect(span.spanContext().traceId).toBe(traceId);
  expect(request.parentSpanContext).toBeUndefined();
  expect(isChildOf(send, request)).toBe(true);
  expect(isChildOf(process, send)).toBe(true); // through the traceparent header of the Kafka record
  expect(isChildOf(handle, process)).toBe(true);
  expect(isChildOf(replySend, process)).toBe(true);
  expect(isChildOf(replyProcess, replySend)).toBe(true);
  expect(process.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
  expect(request.events.map((e) => e.name)).toContain(MessagingSpanEvents.REPLY_RECEIVED);

  expect([send.kind, process.kind, handle.kind, request.kind]).toEqual([
    SpanKind.PRODUCER,
    SpanKind.CONSUMER,
    SpanKind.INTERNAL,
    SpanKind.CLIENT,
  ]);
  expect(send.attributes).toMatchObject({
    [A.SYSTEM]: 'kafka',
    [A.DESTINATION_NAME]: requests,
    [A.OPERATION_NAME]: 'send',
    [A.KAFKA_MESSAGE_KEY]: 'order-7',
    [A.CONVERSATION_ID]: 'conv-obs',
  });
  expect(process.attributes).toMatchObject({
    [A.SYSTEM]: 'kafka',
    [A.DESTINATION_NAME]: requests,
    [A.OPERATION_TYPE]: 'process',
    [A.CONSUMER_GROUP]: responderGroup,
    [A.KAFKA_MESSAGE_KEY]: 'order-7',
    [A.KAFKA_OFFSET]: 0,
    [A.MESSAGE_ID]: send.attributes[A.MESSAGE_ID],
    [A.CONVERSATION_ID]: 'conv-obs',
    [A.GOMES_OUTCOME]: 'success',
  });
  expect(['0', '1']).toContain(process.attributes[A.PARTITION_ID]);
});

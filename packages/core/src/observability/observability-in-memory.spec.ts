import 'reflect-metadata';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { Action } from '../actions/action.js';
import { Command, Event } from '../actions/action-decorators.js';
import { defineCommandHandler, defineEventHandler } from '../actions/handler-definition.js';
import type { LogFields, Logger } from '../logging/logger.js';
import { MessageBuilder } from '../message/message-builder.js';
import { createGomes } from '../gomes/create-gomes.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { InMemoryIdempotencyStore } from '../idempotency/in-memory-idempotency-store.js';
import { isChildOf, OtelTestKit, registerOtelGlobals, SpanKind } from '../../test/support/otel-test-kit.js';
import { MessagingAttributes as A, MessagingSpanEvents } from './messaging-attributes.js';
import { MessagingMetricNames as M } from './messaging-metrics.js';
import { extractTraceContext, injectTraceContext } from './trace-context.js';

@Command('placeOrder')
class PlaceOrder extends Action<string> {
  constructor(readonly sku: string) {
    super();
  }
}

@Event('orderPlaced')
class OrderPlaced {
  constructor(readonly id: string) {}
}

/** A logger that records every line with the bindings of its chain. */
class RecordingLogger implements Logger {
  constructor(
    readonly lines: Array<{ msg: string; fields: Record<string, unknown> }> = [],
    readonly bindings: Record<string, unknown> = {},
  ) {}
  debug(msg: string, fields?: LogFields): void {
    this.lines.push({ msg, fields: { ...this.bindings, ...fields } });
  }
  info = this.debug.bind(this);
  warn = this.debug.bind(this);
  error = this.debug.bind(this);
  child(bindings: LogFields): Logger {
    return new RecordingLogger(this.lines, { ...this.bindings, ...bindings });
  }
}

let undoGlobals: () => void;
let kit: OtelTestKit;
beforeAll(() => (undoGlobals = registerOtelGlobals()));
afterAll(() => undoGlobals());
beforeEach(() => (kit = new OtelTestKit()));
afterEach(async () => kit.shutdown());

describe('tracing over the in-memory transport', () => {
  it('one trace from the bus call to the handler and back through the reply, with parent/child links', async () => {
    const broker = new InMemoryBroker();
    const handlerLogs: Array<Record<string, unknown>> = [];
    const logger = new RecordingLogger();
    const server = createGomes({ name: 'server', tracing: true, tracerProvider: kit.tracerProvider, logger })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'requests.replies'))
      .addConsumerChannel(inMemoryConsumer('mem', 'requests', 'requests-consumer'))
      .addActionHandler(
        defineCommandHandler(PlaceOrder, (c, ctx) => {
          ctx.logger.info('placing');
          handlerLogs.push(logger.lines.at(-1)!.fields);
          return `placed:${c.sku}`;
        }),
      );
    const client = createGomes({ name: 'client', tracerProvider: kit.tracerProvider })
      .enableOtelTrace()
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'requests').withReplyChannelName('requests.replies'))
      .addConsumerChannel(inMemoryConsumer('mem', 'requests.replies', 'replies-consumer'));
    await Promise.all([server.start(), client.start()]);
    await server.eventDrivenConsumer('requests-consumer').run();

    const result = await client
      .commandBusByChannel('requests')
      .send(new PlaceOrder('sku-1'), { correlationId: 'conv-1' });
    expect(result).toBe('placed:sku-1');
    await waitFor(
      () => kit.named('process requests').length === 1 && kit.named('process requests.replies').length === 1,
    );
    await Promise.all([server.shutdown(), client.shutdown()]);

    const request = kit.one('request placeOrder');
    const send = kit.one('send requests');
    const process = kit.one('process requests');
    const handle = kit.one('handle placeOrder');
    const replySend = kit.one('send requests.replies');
    const replyProcess = kit.one('process requests.replies');
    const traceId = request.spanContext().traceId;
    for (const span of [send, process, handle, replySend, replyProcess])
      expect(span.spanContext().traceId).toBe(traceId);

    expect(request.kind).toBe(SpanKind.CLIENT);
    expect(request.parentSpanContext).toBeUndefined();
    expect(isChildOf(send, request)).toBe(true);
    expect(isChildOf(process, send)).toBe(true);
    expect(isChildOf(handle, process)).toBe(true);
    expect(isChildOf(replySend, process)).toBe(true);
    expect(isChildOf(replyProcess, replySend)).toBe(true);
    expect(process.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
    expect(request.events.map((e) => e.name)).toContain(MessagingSpanEvents.REPLY_RECEIVED);
    expect(request.links.map((l) => l.context.spanId)).toEqual([replySend.spanContext().spanId]);

    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes).toMatchObject({
      [A.SYSTEM]: 'gomes:in-memory',
      [A.DESTINATION_NAME]: 'requests',
      [A.OPERATION_NAME]: 'send',
      [A.CONVERSATION_ID]: 'conv-1',
      [A.GOMES_ROUTE]: 'placeOrder',
    });
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.attributes).toMatchObject({
      [A.DESTINATION_NAME]: 'requests',
      [A.OPERATION_TYPE]: 'process',
      [A.CONSUMER_GROUP]: 'requests-consumer',
      [A.PARTITION_ID]: '0',
      [A.MESSAGE_ID]: send.attributes[A.MESSAGE_ID],
      [A.CONVERSATION_ID]: 'conv-1',
      [A.GOMES_OUTCOME]: 'success',
    });
    expect(handle.kind).toBe(SpanKind.INTERNAL);
    expect(handle.attributes[A.GOMES_HANDLER]).toBeDefined();

    // Log correlation: the handler's logger carries the handler span's ids, the message id and the conversation id.
    expect(handlerLogs[0]).toMatchObject({
      traceId,
      spanId: handle.spanContext().spanId,
      messageId: send.attributes[A.MESSAGE_ID],
      correlationId: 'conv-1',
    });
  });

  it('traces in-process dispatch only once enabled, per instance', async () => {
    const app = createGomes({ tracerProvider: kit.tracerProvider }).addActionHandler(
      defineCommandHandler(PlaceOrder, (c) => `ok:${c.sku}`),
    );
    const other = createGomes({ tracerProvider: kit.tracerProvider, tracing: true });
    await app.start();
    await app.commandBus().send(new PlaceOrder('a'));
    expect(kit.finished()).toHaveLength(0);
    expect(app.enableOtelTrace().otelTraceEnabled).toBe(true);
    expect(other.enableOtelTrace(false).otelTraceEnabled).toBe(false);
    await app.commandBus().send(new PlaceOrder('b'));
    const dispatch = kit.one('dispatch placeOrder');
    const handle = kit.one('handle placeOrder');
    expect(isChildOf(handle, dispatch)).toBe(true);
    app.enableOtelTrace(false);
    await app.commandBus().send(new PlaceOrder('c'));
    expect(kit.finished()).toHaveLength(2);
    await app.shutdown();
  });

  it('writes no trace header when tracing is off', async () => {
    const broker = new InMemoryBroker();
    const app = createGomes({ tracerProvider: kit.tracerProvider })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'events'));
    await app.start();
    const userSpan = kit.tracerProvider.getTracer('app').startSpan('user work');
    await context.with(trace.setSpan(context.active(), userSpan), async () =>
      app.eventBusByChannel('events').publish(new OrderPlaced('1')),
    );
    userSpan.end();
    const [record] = broker.records('events', 0);
    expect(Object.keys(broker.decode(record!).headers)).not.toContain('traceparent');
    expect(kit.finished().map((s) => s.name)).toEqual(['user work']);
    await app.shutdown();
  });
});

describe('metrics and dead-letter tracing over the in-memory transport', () => {
  it('counts sent, consumed, succeeded, failed, retried and dead-lettered messages exactly', async () => {
    const broker = new InMemoryBroker();
    const app = createGomes({
      tracing: true,
      tracerProvider: kit.tracerProvider,
      meterProvider: kit.meterProvider,
    })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'jobs'))
      .addPublisherChannel(inMemoryPublisher('mem', 'jobs.DLQ'))
      .addConsumerChannel(
        inMemoryConsumer('mem', 'jobs', 'worker')
          .withRetry({ maxAttempts: 2, initialDelayMs: 1 })
          .withDeadLetterChannelName('jobs.DLQ'),
      )
      .addActionHandler(
        defineEventHandler(OrderPlaced, (e) => {
          if (e.id.startsWith('bad')) throw new Error(`cannot place ${e.id}`);
        }),
      );
    await app.start();
    const consumer = app.eventDrivenConsumer('worker');
    await consumer.run();
    for (const id of ['a', 'b', 'c', 'bad-1', 'bad-2'])
      await app.eventBusByChannel('jobs').publish(new OrderPlaced(id));
    await waitFor(() => consumer.stats.succeeded + consumer.stats.deadLettered === 5);
    await waitFor(() => kit.named('process jobs').length === 5);

    const jobs = { [A.DESTINATION_NAME]: 'jobs' };
    expect(await kit.sum(M.SENT, jobs)).toBe(5);
    expect(await kit.sum(M.SENT, { [A.DESTINATION_NAME]: 'jobs.DLQ' })).toBe(2);
    expect(await kit.histogramCount(M.SEND_DURATION, jobs)).toBe(5);
    expect(await kit.sum(M.CONSUMED, { ...jobs, [A.CONSUMER_GROUP]: 'worker' })).toBe(5);
    expect(await kit.sum(M.SUCCEEDED, jobs)).toBe(3);
    expect(await kit.sum(M.FAILED, jobs)).toBe(2);
    expect(await kit.sum(M.DEAD_LETTERED, { ...jobs, [A.ERROR_TYPE]: 'Error' })).toBe(2);
    expect(await kit.sum(M.RETRIED, jobs)).toBe(2);
    expect(await kit.histogramCount(M.PROCESS_DURATION, jobs)).toBe(5);
    expect(await kit.sum(M.IN_FLIGHT, { [A.GOMES_ENDPOINT]: 'worker' })).toBe(0);

    const failed = kit.named('process jobs', (s) => s.attributes[A.GOMES_OUTCOME] === 'dead_lettered');
    expect(failed).toHaveLength(2);
    for (const span of failed) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.events.map((e) => e.name)).toEqual([
        MessagingSpanEvents.RETRY,
        MessagingSpanEvents.DEAD_LETTERED,
      ]);
      const dlq = kit.one('dead-letter jobs.DLQ', (s) => isChildOf(s, span));
      expect(dlq.kind).toBe(SpanKind.PRODUCER);
      expect(dlq.attributes[A.OPERATION_NAME]).toBe('dead_letter');
      expect(kit.named('handle orderPlaced', (s) => isChildOf(s, span))).toHaveLength(2);
    }
    await app.shutdown();
  });

  it('reports consumer lag per partition while messages wait', async () => {
    const broker = new InMemoryBroker();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const app = createGomes({ meterProvider: kit.meterProvider })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'slow'))
      .addConsumerChannel(inMemoryConsumer('mem', 'slow', 'slow-worker'))
      .addActionHandler(defineEventHandler(OrderPlaced, async () => gate));
    await app.start();
    const consumer = app.eventDrivenConsumer('slow-worker');
    await consumer.run();
    for (const id of ['1', '2', '3', '4']) {
      await app.eventBusByChannel('slow').publish(new OrderPlaced(id), { partitionKey: 'one-partition' });
    }
    const lag = { [A.DESTINATION_NAME]: 'slow', [A.CONSUMER_GROUP]: 'slow-worker' };
    await waitFor(async () => (await kit.sum(M.LAG, lag)) === 4);
    expect(await kit.sum(M.IN_FLIGHT, { [A.GOMES_ENDPOINT]: 'slow-worker' })).toBe(1);
    release();
    await waitFor(() => consumer.stats.succeeded === 4);
    await waitFor(async () => (await kit.sum(M.LAG, lag)) === 0);
    await app.shutdown();
  });
});

describe('duplicates of an idempotent consumer', () => {
  it('are counted, and their process span has outcome duplicate and a gomes.duplicate event', async () => {
    const broker = new InMemoryBroker();
    const app = createGomes({
      tracing: true,
      tracerProvider: kit.tracerProvider,
      meterProvider: kit.meterProvider,
    })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'jobs'))
      .addConsumerChannel(
        inMemoryConsumer('mem', 'jobs', 'worker').withIdempotency(new InMemoryIdempotencyStore(), {
          ttlMs: 60_000,
        }),
      )
      .addActionHandler(defineEventHandler(OrderPlaced, () => undefined));
    await app.start();
    const consumer = app.eventDrivenConsumer('worker');
    await consumer.run();
    const copy = MessageBuilder.withPayload({ id: 'a' }).messageId('job-a').route('orderPlaced').build();
    await app.publisherChannel('jobs').send(copy);
    await app.publisherChannel('jobs').send(copy);
    await waitFor(() => consumer.stats.acked === 2);
    await waitFor(() => kit.named('process jobs').length === 2);
    const jobs = { [A.DESTINATION_NAME]: 'jobs' };
    expect(await kit.sum(M.DUPLICATES, jobs)).toBe(1);
    expect(await kit.sum(M.SUCCEEDED, jobs)).toBe(2);
    const [duplicate] = kit.named('process jobs', (s) => s.attributes[A.GOMES_OUTCOME] === 'duplicate');
    expect(duplicate?.events.map((e) => [e.name, e.attributes?.[A.GOMES_IDEMPOTENCY_KEY]])).toEqual([
      [MessagingSpanEvents.DUPLICATE, 'worker:job-a'],
    ]);
    expect(kit.named('process jobs', (s) => s.attributes[A.GOMES_OUTCOME] === 'success')).toHaveLength(1);
    await app.shutdown();
  });
});

describe('trace context in headers', () => {
  it("injects W3C headers and extracts them, Go gomes' Traceparent spelling included", () => {
    const span = kit.tracerProvider.getTracer('t').startSpan('s');
    const ctx = trace.setSpan(
      trace.deleteSpan(extractTraceContext(MessageBuilder.withPayload(1).build())),
      span,
    );
    const message = injectTraceContext(
      MessageBuilder.withPayload(1).header('Traceparent', 'stale').build(),
      ctx,
    );
    expect(message.header('traceparent')).toMatch(
      new RegExp(`^00-${span.spanContext().traceId}-${span.spanContext().spanId}-01$`),
    );
    expect(message.header('Traceparent')).toBeUndefined();
    const goStyle = MessageBuilder.withPayload(1)
      .header('Traceparent', message.header('traceparent')!)
      .build();
    expect(trace.getSpanContext(extractTraceContext(goStyle))?.spanId).toBe(span.spanContext().spanId);
    span.end();
  });
});

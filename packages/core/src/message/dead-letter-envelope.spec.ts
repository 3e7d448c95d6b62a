import { GomesError, NonRetriableError } from '../errors/gomes-error.js';
import {
  DEAD_LETTER_MAX_STACK_LENGTH,
  DeadLetterHeaders,
  deadLetterMessage,
  readDeadLetterEnvelope,
} from './dead-letter-envelope.js';
import { MessageBuilder } from './message-builder.js';

describe('dead-letter envelope', () => {
  const original = MessageBuilder.withPayload({ orderId: 42 })
    .messageType('Command')
    .route('createOrder')
    .correlationId('corr-1')
    .replyTo('replies')
    .header('tenant', 'acme')
    .build();

  it('builds a new Document message carrying the original payload, prefixed headers and the envelope', () => {
    const first = new Date('2026-01-01T00:00:00.000Z');
    const last = new Date('2026-01-01T00:00:05.000Z');
    const error = new GomesError('PROCESSING_TIMEOUT', 'too slow');
    const dlq = deadLetterMessage(
      original,
      error,
      { attempts: 3, firstFailureAt: first, lastFailureAt: last },
      {
        channelName: 'orders.dlq',
        endpointName: 'orders-consumer',
        delivery: { position: { channel: 'orders', partition: 2, offset: '17' }, deliveryAttempt: 1 },
      },
    );
    expect(dlq.payload).toBe(original.payload);
    expect(dlq.messageId).not.toBe(original.messageId);
    expect(dlq.causationId).toBe(original.messageId);
    expect(dlq.correlationId).toBe('corr-1');
    expect(dlq.messageType).toBe('Document');
    expect(dlq.channelName).toBe('orders.dlq');
    expect(dlq.route).toBeUndefined();
    expect(dlq.replyTo).toBeUndefined();
    expect(dlq.header('gomes.original.route')).toBe('createOrder');
    expect(dlq.header('gomes.original.tenant')).toBe('acme');
    expect(dlq.header(DeadLetterHeaders.ERROR_CODE)).toBe('GOMES_PROCESSING_TIMEOUT');

    const env = readDeadLetterEnvelope(dlq);
    expect(env).toMatchObject({
      errorName: 'GomesError',
      errorCode: 'GOMES_PROCESSING_TIMEOUT',
      errorMessage: 'too slow',
      retriable: true,
      attempts: 3,
      deliveryAttempt: 1,
      firstFailureAt: first,
      lastFailureAt: last,
      originChannel: 'orders',
      originPartition: 2,
      originOffset: '17',
      consumer: 'orders-consumer',
    });
    expect(env?.errorStack).toContain('too slow');
    expect(env?.originalHeaders).toEqual(original.headers);
  });

  it('records non-retriable errors, plain error codes, and truncates long stacks', () => {
    const error = new NonRetriableError('bad order');
    error.stack = 'x'.repeat(DEAD_LETTER_MAX_STACK_LENGTH * 3);
    const env = readDeadLetterEnvelope(
      deadLetterMessage(
        original,
        error,
        { attempts: 0 },
        { channelName: 'dlq', endpointName: 'c', now: new Date(0) },
      ),
    );
    expect(env?.retriable).toBe(false);
    expect(env?.attempts).toBe(1);
    expect(env?.errorStack).toHaveLength(DEAD_LETTER_MAX_STACK_LENGTH);
    expect(env?.firstFailureAt).toEqual(new Date(0));
    expect(env?.originPartition).toBeUndefined();

    const sys = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    expect(
      readDeadLetterEnvelope(
        deadLetterMessage(original, sys, { attempts: 1 }, { channelName: 'dlq', endpointName: 'c' }),
      )?.errorCode,
    ).toBe('ECONNREFUSED');
  });

  it('always writes the error message, falling back to the error name, so the envelope is readable', () => {
    const source = { channelName: 'dlq', endpointName: 'c' };
    const plain = deadLetterMessage(original, new Error(), { attempts: 1 }, source);
    expect(plain.header(DeadLetterHeaders.ERROR_MESSAGE)).toBe('Error');
    expect(readDeadLetterEnvelope(plain)?.errorMessage).toBe('Error');
    const typed = new TypeError('');
    const env = readDeadLetterEnvelope(deadLetterMessage(original, typed, { attempts: 2 }, source));
    expect(env).toMatchObject({ errorName: 'TypeError', errorMessage: 'TypeError', attempts: 2 });
  });

  it('returns undefined for a message that is not a dead letter', () => {
    expect(readDeadLetterEnvelope(original)).toBeUndefined();
  });
});

describe('MessageBuilder.fromDeadLetter', () => {
  const original = MessageBuilder.withPayload({ orderId: 7, lines: [{ sku: 'a' }] })
    .messageType('Command')
    .route('createOrder')
    .correlationId('corr-7')
    .causationId('cause-7')
    .version('2.0')
    .header('tenant', 'acme')
    .build();
  const dead = deadLetterMessage(
    original,
    new NonRetriableError('rejected'),
    { attempts: 1 },
    { channelName: 'orders.DLQ', endpointName: 'orders-consumer' },
  );

  it('restores the original payload and every original header, reserved ones and messageId included', () => {
    // The recipe this replaces: withPayload + the original headers, which threw for reserved names.
    expect(() =>
      MessageBuilder.withPayload(dead.payload).headers(readDeadLetterEnvelope(dead)!.originalHeaders),
    ).toThrow(/reserved header/);
    const restored = MessageBuilder.fromDeadLetter(dead).build();
    expect(restored.payload).toEqual(original.payload);
    expect(restored.headers).toEqual(original.headers);
    expect(restored.messageId).toBe(original.messageId);
    expect(Object.keys(restored.headers).filter((h) => h.startsWith('gomes.'))).toEqual([]);
  });

  it('can be changed like any builder (target channel, redrive count) without touching the id', () => {
    const redriven = MessageBuilder.fromDeadLetter(dead)
      .channelName('orders.retry')
      .header('gomes.redriveCount', '1')
      .build();
    expect(redriven.messageId).toBe(original.messageId);
    expect(redriven.channelName).toBe('orders.retry');
    expect(redriven.header('gomes.redriveCount')).toBe('1');
    expect(redriven.route).toBe('createOrder');
  });

  it('refuses a message that is not a dead letter, or one without an original messageId', () => {
    expect(() => MessageBuilder.fromDeadLetter(original)).toThrow(
      expect.objectContaining({ code: 'GOMES_INVALID_HEADER' }) as Error,
    );
    const raw = MessageBuilder.withPayload('raw bytes')
      .header(DeadLetterHeaders.ERROR_MESSAGE, 'undecodable')
      .build();
    expect(() => MessageBuilder.fromDeadLetter(raw)).toThrow(/no original messageId/);
  });
});

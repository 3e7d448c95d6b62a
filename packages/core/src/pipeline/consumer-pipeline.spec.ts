import { DEFAULT_CONSUMER_ENDPOINT_OPTIONS } from '../channel/channel-builders.js';
import type { Delivery } from '../channel/consumer-channel.js';
import type { PublisherChannel } from '../channel/publisher-channel.js';
import { noopLogger } from '../logging/logger.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { Message } from '../message/message.js';
import { consumerPipeline } from './consumer-pipeline.js';
import { ReplyHeaders } from './middleware/send-reply.js';
import type { ProcessingContext } from './processing-context.js';

function publisher(name: string): PublisherChannel & { sent: Message[] } {
  const sent: Message[] = [];
  return { name, sent, send: async (m) => void sent.push(m), close: async () => undefined };
}

describe('consumerPipeline', () => {
  const request = MessageBuilder.withPayload({ q: 1 }).replyTo('replies').correlationId('c').build();

  function run(handler: (m: Message, ctx: ProcessingContext) => Promise<Message | undefined>) {
    const [dlq, replies] = [publisher('dlq'), publisher('replies')];
    const settled: string[] = [];
    const delivery: Delivery = {
      message: request,
      key: 'k',
      position: { channel: 'orders' },
      deliveryAttempt: 1,
      ack: async () => void settled.push('ack'),
      nack: async () => void settled.push('nack'),
    };
    const hooks = { retries: 0, deadLettered: 0 };
    const pipeline = consumerPipeline({
      endpointOptions: {
        ...DEFAULT_CONSUMER_ENDPOINT_OPTIONS,
        deadLetterChannelName: 'dlq',
        sendReplyUsingReplyTo: true,
        retry: { maxAttempts: 2, initialDelayMs: 0, maxDelayMs: 0, jitter: 0 },
      },
      processingTimeoutMs: 1000,
      handler,
      hooks: { onRetry: () => void hooks.retries++, onDeadLettered: () => void hooks.deadLettered++ },
    });
    const ctx: ProcessingContext = {
      signal: new AbortController().signal,
      logger: noopLogger,
      endpointName: 'c',
      delivery,
      channels: { publisher: (n) => [dlq, replies].find((p) => p.name === n) },
      state: { attempts: 0 },
    };
    return { result: pipeline(request, ctx), dlq, replies, settled, hooks };
  }

  it('on final failure: retries, sends one error reply, dead-letters once, then acks', async () => {
    const { result, dlq, replies, settled, hooks } = run(async () => Promise.reject(new Error('boom')));
    await expect(result).resolves.toBeUndefined();
    expect(hooks).toEqual({ retries: 1, deadLettered: 1 });
    expect(replies.sent).toHaveLength(1);
    expect(replies.sent[0]?.header(ReplyHeaders.ERROR)).toBe('true');
    expect(readDeadLetterEnvelope(dlq.sent[0] as Message)?.attempts).toBe(2);
    expect(settled).toEqual(['ack']);
  });

  it('on success after a retry: one reply, no dead letter, ack', async () => {
    let calls = 0;
    const { result, dlq, replies, settled } = run(async () => {
      if (++calls === 1) throw new Error('transient');
      return MessageBuilder.withPayload({ answer: 42 }).build();
    });
    await expect(result).resolves.toBeDefined();
    expect(replies.sent.map((r) => r.payload)).toEqual([{ answer: 42 }]);
    expect(dlq.sent).toEqual([]);
    expect(settled).toEqual(['ack']);
  });
});

import type { PublisherChannel } from '../../channel/publisher-channel.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError, isGomesError } from '../../errors/gomes-error.js';
import { noopLogger } from '../../logging/logger.js';
import { readDeadLetterEnvelope } from '../../message/dead-letter-envelope.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import type { ProcessingContext } from '../processing-context.js';
import { deadLetter } from './dead-letter.js';

function publisher(name: string, fail?: Error): PublisherChannel & { sent: Message[] } {
  const sent: Message[] = [];
  return {
    name,
    sent,
    send: async (m) => {
      if (fail) throw fail;
      sent.push(m);
    },
    close: async () => undefined,
  };
}

function ctxWith(channels: PublisherChannel[], signal = new AbortController().signal): ProcessingContext {
  return {
    signal,
    logger: noopLogger,
    endpointName: 'orders-consumer',
    channels: { publisher: (n) => channels.find((c) => c.name === n) },
    state: { attempts: 0 },
  };
}

describe('deadLetter', () => {
  const message = MessageBuilder.withPayload({ id: 1 }).route('createOrder').header('tenant', 'acme').build();
  const failing = async (): Promise<Message | undefined> => {
    throw new GomesError('HANDLER_FAILED', 'boom');
  };

  it('passes successes through untouched', async () => {
    const dlq = publisher('dlq');
    await expect(deadLetter({ channelName: 'dlq' })(async (m) => m)(message, ctxWith([dlq]))).resolves.toBe(
      message,
    );
    expect(dlq.sent).toEqual([]);
  });

  it('publishes the envelope and returns normally once the publish resolved', async () => {
    const dlq = publisher('dlq');
    const seen: string[] = [];
    const ctx = ctxWith([dlq]);
    const run = deadLetter({ channelName: 'dlq', onDeadLettered: (_m, e) => seen.push(e.message) })(failing);
    await expect(run(message, ctx)).resolves.toBeUndefined();
    expect(dlq.sent).toHaveLength(1);
    const sent = dlq.sent[0] as Message;
    expect(sent.payload).toBe(message.payload);
    expect(sent.causationId).toBe(message.messageId);
    const env = readDeadLetterEnvelope(sent);
    expect(env).toMatchObject({
      errorMessage: 'boom',
      errorCode: 'GOMES_HANDLER_FAILED',
      attempts: 1,
      consumer: 'orders-consumer',
    });
    expect(env?.originalHeaders['tenant']).toBe('acme');
    expect(seen).toEqual(['boom']);
    expect(ctx.state.lastError?.message).toBe('boom');
  });

  it('throws DEAD_LETTER_FAILED with the cause when the publish fails', async () => {
    const cause = new Error('broker down');
    const run = deadLetter({ channelName: 'dlq' })(failing);
    const error: unknown = await run(message, ctxWith([publisher('dlq', cause)])).catch((e: unknown) => e);
    expect(isGomesError(error) && error.code).toBe('GOMES_DEAD_LETTER_FAILED');
    expect((error as Error).cause).toBe(cause);
    expect((error as GomesError).retriable).toBe(true);
  });

  it('throws DEAD_LETTER_FAILED when the channel does not exist', async () => {
    const error: unknown = await deadLetter({ channelName: 'nope' })(failing)(message, ctxWith([])).catch(
      (e: unknown) => e,
    );
    expect(isGomesError(error) && error.code).toBe('GOMES_DEAD_LETTER_FAILED');
  });

  it('re-throws without dead-lettering when processing was aborted (shutdown)', async () => {
    const dlq = publisher('dlq');
    const ac = new AbortController();
    ac.abort();
    await expect(
      deadLetter({ channelName: 'dlq' })(failing)(message, ctxWith([dlq], ac.signal)),
    ).rejects.toThrow('boom');
    expect(dlq.sent).toEqual([]);
  });

  it('rejects an empty channel name', () => {
    expect(() => deadLetter({ channelName: '' })).toThrow(ConfigurationError);
  });
});

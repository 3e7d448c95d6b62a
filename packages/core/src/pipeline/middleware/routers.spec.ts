import type { PublisherChannel } from '../../channel/publisher-channel.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { isGomesError, isRetriable } from '../../errors/gomes-error.js';
import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import type { ProcessingContext } from '../processing-context.js';
import { contentBasedRouter } from './content-based-router.js';
import { recipientListRouter } from './recipient-list-router.js';

function publisher(name: string, fail?: Error): PublisherChannel & { sent: Message[] } {
  const sent: Message[] = [];
  return {
    name,
    sent,
    send: async (m) => (fail ? Promise.reject(fail) : void sent.push(m)),
    close: async () => undefined,
  };
}
const ctxWith = (channels: PublisherChannel[]): ProcessingContext => ({
  signal: new AbortController().signal,
  logger: noopLogger,
  endpointName: 't',
  channels: { publisher: (n) => channels.find((c) => c.name === n) },
  state: { attempts: 0 },
});
const message = MessageBuilder.withPayload({ region: 'eu' })
  .route('createOrder')
  .channelName('orders')
  .build();
const never = async (): Promise<Message | undefined> => {
  throw new Error('next must not run');
};

describe('recipientListRouter', () => {
  it('forwards to every recipient keeping the messageId, terminal by default', async () => {
    const a = publisher('a');
    const b = publisher('b');
    await expect(recipientListRouter(['a', 'b'])(never)(message, ctxWith([a, b]))).resolves.toBeUndefined();
    expect(a.sent.map((m) => [m.messageId, m.channelName, m.route])).toEqual([
      [message.messageId, 'a', 'createOrder'],
    ]);
    expect(b.sent[0]?.channelName).toBe('b');
    expect(b.sent[0]?.payload).toBe(message.payload);
  });

  it('selects recipients per message and continues when configured', async () => {
    const eu = publisher('orders.eu');
    const next = jest.fn(async (m: Message) => m);
    const run = recipientListRouter((m) => [`orders.${(m.payload as { region: string }).region}`], {
      continue: true,
    })(next);
    await expect(run(message, ctxWith([eu]))).resolves.toBe(message);
    expect(eu.sent).toHaveLength(1);
    expect(next).toHaveBeenCalledTimes(1);
  });

  it('fails with a non-retriable NOT_FOUND for an unknown channel before sending anything', async () => {
    const a = publisher('a');
    const error: unknown = await recipientListRouter(['a', 'missing'])(never)(message, ctxWith([a])).catch(
      (e: unknown) => e,
    );
    expect(isGomesError(error) && error.code).toBe('GOMES_NOT_FOUND');
    expect(isRetriable(error)).toBe(false);
    expect(a.sent).toEqual([]);
  });

  it('fails on an empty selection and on send errors (wrapped as PUBLISH_FAILED)', async () => {
    const empty: unknown = await recipientListRouter(() => [])(never)(message, ctxWith([])).catch(
      (e: unknown) => e,
    );
    expect(isGomesError(empty) && empty.code).toBe('GOMES_NOT_FOUND');
    const broken: unknown = await recipientListRouter(['x'])(never)(
      message,
      ctxWith([publisher('x', new Error('down'))]),
    ).catch((e: unknown) => e);
    expect(isGomesError(broken) && broken.code).toBe('GOMES_PUBLISH_FAILED');
    expect(isRetriable(broken)).toBe(true);
  });

  it('validates static lists', () => {
    expect(() => recipientListRouter([])).toThrow(ConfigurationError);
    expect(() => recipientListRouter(['ok', ''])).toThrow(ConfigurationError);
  });
});

describe('contentBasedRouter', () => {
  const select = (m: Message): string | undefined =>
    (m.payload as { region: string }).region === 'eu' ? 'orders.eu' : undefined;

  it('routes to the selected channel and is terminal', async () => {
    const eu = publisher('orders.eu');
    await expect(contentBasedRouter(select)(never)(message, ctxWith([eu]))).resolves.toBeUndefined();
    expect(eu.sent[0]?.messageId).toBe(message.messageId);
  });

  it('uses the fallback when nothing matches', async () => {
    const other = publisher('orders.other');
    const us = MessageBuilder.withPayload({ region: 'us' }).build();
    await contentBasedRouter(select, { fallback: 'orders.other' })(never)(us, ctxWith([other]));
    expect(other.sent).toHaveLength(1);
  });

  it('fails non-retriably without match and fallback, or for an unknown channel', async () => {
    const us = MessageBuilder.withPayload({ region: 'us' }).build();
    const noMatch: unknown = await contentBasedRouter(select)(never)(us, ctxWith([])).catch(
      (e: unknown) => e,
    );
    expect(isGomesError(noMatch) && noMatch.code).toBe('GOMES_NOT_FOUND');
    expect(isRetriable(noMatch)).toBe(false);
    const unknown: unknown = await contentBasedRouter(select)(never)(message, ctxWith([])).catch(
      (e: unknown) => e,
    );
    expect(isRetriable(unknown)).toBe(false);
    expect(() => contentBasedRouter(select, { fallback: '' })).toThrow(ConfigurationError);
  });
});

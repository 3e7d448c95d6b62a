import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import { composeMiddleware, type Interceptor } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';
import { afterInterceptors, beforeInterceptors } from './interceptors.js';
import { messageFilter } from './message-filter.js';

const ctx = (): ProcessingContext => ({
  signal: new AbortController().signal,
  logger: noopLogger,
  endpointName: 't',
  channels: { publisher: () => undefined },
  state: { attempts: 0 },
});
const stamp =
  (tag: string, log: string[]): Interceptor =>
  (m) => {
    log.push(tag);
    return MessageBuilder.from(m)
      .header('trail', `${m.header('trail') ?? ''}${tag}`)
      .build();
  };

describe('interceptors', () => {
  const message = MessageBuilder.withPayload('p').build();

  it('runs before-interceptors in order, then the handler, then after-interceptors in order', async () => {
    const log: string[] = [];
    const handler = async (m: Message): Promise<Message | undefined> => {
      log.push(`handler(${m.header('trail')})`);
      return m;
    };
    const run = composeMiddleware(
      [
        beforeInterceptors([stamp('b1', log), async (m) => stamp('b2', log)(m, ctx())]),
        afterInterceptors([stamp('a1', log), stamp('a2', log)]),
      ],
      handler,
    );
    const result = await run(message, ctx());
    expect(log).toEqual(['b1', 'b2', 'handler(b1b2)', 'a1', 'a2']);
    expect(result?.header('trail')).toBe('b1b2a1a2');
  });

  it('stops processing (handled) when a before-interceptor returns undefined, and reports it', async () => {
    const stopped: number[] = [];
    const handler = jest.fn(async (m: Message) => m);
    const run = beforeInterceptors([(m) => m, () => undefined, stamp('never', [])], {
      onStopped: (_m, i) => stopped.push(i),
    })(handler);
    await expect(run(message, ctx())).resolves.toBeUndefined();
    expect(handler).not.toHaveBeenCalled();
    expect(stopped).toEqual([1]);
  });

  it('skips after-interceptors when there is no result', async () => {
    const after = jest.fn((m: Message) => m);
    await expect(afterInterceptors([after])(async () => undefined)(message, ctx())).resolves.toBeUndefined();
    expect(after).not.toHaveBeenCalled();
  });

  it('returns next itself for empty lists', () => {
    const next = async (m: Message): Promise<Message | undefined> => m;
    expect(beforeInterceptors([])(next)).toBe(next);
    expect(afterInterceptors([])(next)).toBe(next);
  });
});

describe('messageFilter', () => {
  const message = MessageBuilder.withPayload({ keep: false }).build();

  it('drops messages the filter rejects (handled, reported) and passes the others', async () => {
    const filtered: string[] = [];
    const handler = jest.fn(async (m: Message) => m);
    const run = messageFilter(async (m) => (m.payload as { keep: boolean }).keep, {
      onFiltered: (m) => filtered.push(m.messageId),
    })(handler);
    await expect(run(message, ctx())).resolves.toBeUndefined();
    expect(handler).not.toHaveBeenCalled();
    expect(filtered).toEqual([message.messageId]);
    const kept = MessageBuilder.withPayload({ keep: true }).build();
    await expect(run(kept, ctx())).resolves.toBe(kept);
    expect(filtered).toHaveLength(1);
  });

  it('fails the message when the filter throws', async () => {
    const run = messageFilter(() => {
      throw new Error('bad filter');
    })(async (m) => m);
    await expect(run(message, ctx())).rejects.toThrow('bad filter');
  });
});

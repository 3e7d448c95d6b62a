import { ConfigurationError } from '../../errors/configuration-error.js';
import { isGomesError } from '../../errors/gomes-error.js';
import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import type { ProcessingContext } from '../processing-context.js';
import { processingTimeout } from './processing-timeout.js';

const message = MessageBuilder.withPayload(1).build();
const ctxWith = (signal = new AbortController().signal): ProcessingContext => ({
  signal,
  logger: noopLogger,
  endpointName: 't',
  channels: { publisher: () => undefined },
  state: { attempts: 0 },
});

describe('processingTimeout', () => {
  afterEach(() => jest.useRealTimers());

  it('aborts the handler signal and rejects with a retriable PROCESSING_TIMEOUT even if the handler ignores it', async () => {
    jest.useFakeTimers();
    let seen: AbortSignal | undefined;
    const run = processingTimeout(1000)(async (_m, ctx) => {
      seen = ctx.signal;
      return new Promise<Message | undefined>(() => undefined);
    });
    const outcome = run(message, ctxWith()).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(999);
    expect(seen?.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(isGomesError(error) && error.code).toBe('GOMES_PROCESSING_TIMEOUT');
    expect(isGomesError(error) && error.retriable).toBe(true);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });

  it('returns the result in time, clears its timer and shares the state object', async () => {
    jest.useFakeTimers();
    const ctx = ctxWith();
    const run = processingTimeout(1000)(async (m, inner) => {
      inner.state.attempts = 7;
      return m;
    });
    await expect(run(message, ctx)).resolves.toBe(message);
    expect(jest.getTimerCount()).toBe(0);
    expect(ctx.state.attempts).toBe(7);
  });

  it('propagates the parent abort to the handler signal and rejects at once', async () => {
    const parent = new AbortController();
    let seen: AbortSignal | undefined;
    const run = processingTimeout(60_000)(async (_m, ctx) => {
      seen = ctx.signal;
      return new Promise<Message | undefined>(() => undefined);
    });
    const outcome = run(message, ctxWith(parent.signal)).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    parent.abort();
    const error = await outcome;
    expect(isGomesError(error) && error.code).toBe('GOMES_ABORTED');
    expect(seen?.aborted).toBe(true);
  });

  it('passes handler errors through and treats 0 as disabled', async () => {
    const failing = async (): Promise<Message | undefined> => {
      throw new Error('boom');
    };
    await expect(processingTimeout(50)(failing)(message, ctxWith())).rejects.toThrow('boom');
    const terminal = async (m: Message): Promise<Message | undefined> => m;
    expect(processingTimeout(0)(terminal)).toBe(terminal);
  });

  it('rejects invalid timeouts', () => {
    expect(() => processingTimeout(-1)).toThrow(ConfigurationError);
    expect(() => processingTimeout(1.5)).toThrow(ConfigurationError);
    expect(() => processingTimeout(2 ** 31)).toThrow(ConfigurationError);
  });
});

import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError, NonRetriableError, isGomesError } from '../../errors/gomes-error.js';
import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import type { ProcessingContext } from '../processing-context.js';
import { retry } from './retry.js';

const message = MessageBuilder.withPayload(1).build();
const ctxWith = (signal = new AbortController().signal): ProcessingContext => ({
  signal,
  logger: noopLogger,
  endpointName: 't',
  channels: { publisher: () => undefined },
  state: { attempts: 0 },
});

function flaky(failures: number, error: () => Error = () => new Error('transient')) {
  let calls = 0;
  const fn = async (m: Message): Promise<Message | undefined> => {
    calls++;
    if (calls <= failures) throw error();
    return m;
  };
  return { fn, calls: () => calls };
}

describe('retry', () => {
  it('retries until success, recording attempts and failures and waiting the computed delays', async () => {
    const delays: number[] = [];
    const retries: number[] = [];
    const h = flaky(2);
    const ctx = ctxWith();
    const run = retry(
      { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, jitter: 0 },
      { sleep: async (ms) => void delays.push(ms), onRetry: (_m, _e, n) => retries.push(n) },
    )(h.fn);
    await expect(run(message, ctx)).resolves.toBe(message);
    expect(h.calls()).toBe(3);
    expect(delays).toEqual([100, 200]);
    expect(retries).toEqual([1, 2]);
    expect(ctx.state.attempts).toBe(3);
    expect(ctx.state.firstFailureAt).toBeInstanceOf(Date);
    expect(ctx.state.lastError?.message).toBe('transient');
  });

  it('uses fixed delaysMs (Go WithRetryTimes) and re-throws the last error when exhausted', async () => {
    const delays: number[] = [];
    const h = flaky(10, () => new GomesError('HANDLER_FAILED', 'still failing'));
    const ctx = ctxWith();
    const run = retry({ delaysMs: [5, 7] }, { sleep: async (ms) => void delays.push(ms) })(h.fn);
    await expect(run(message, ctx)).rejects.toThrow('still failing');
    expect(h.calls()).toBe(3);
    expect(delays).toEqual([5, 7]);
    expect(ctx.state.attempts).toBe(3);
  });

  it('re-throws non-retriable errors at once', async () => {
    const h = flaky(10, () => new NonRetriableError('permanent'));
    const sleep = jest.fn(async () => undefined);
    await expect(retry({ maxAttempts: 5 }, { sleep })(h.fn)(message, ctxWith())).rejects.toThrow('permanent');
    expect(h.calls()).toBe(1);
    expect(sleep).not.toHaveBeenCalled();
  });

  it('applies jitter through the injected random source', async () => {
    const delays: number[] = [];
    const h = flaky(1);
    await retry(
      { maxAttempts: 2, initialDelayMs: 100, jitter: 0.5 },
      { random: () => 1, sleep: async (ms) => void delays.push(ms) },
    )(h.fn)(message, ctxWith());
    expect(delays).toEqual([150]);
  });

  it('stops waiting as soon as the signal aborts (real abortable sleep)', async () => {
    const ac = new AbortController();
    const h = flaky(10);
    const run = retry({ maxAttempts: 5, initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 })(h.fn);
    const outcome = run(message, ctxWith(ac.signal)).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    const error = await outcome;
    expect(isGomesError(error) && error.code).toBe('GOMES_ABORTED');
    expect(h.calls()).toBe(1);
  });

  it('does not retry when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const h = flaky(10);
    await expect(retry({ maxAttempts: 5 })(h.fn)(message, ctxWith(ac.signal))).rejects.toThrow('transient');
    expect(h.calls()).toBe(1);
  });

  it('throws one ConfigurationError listing every problem', () => {
    try {
      retry({ maxAttempts: 0, jitter: 2 });
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigurationError);
      expect((e as ConfigurationError).problems.length).toBeGreaterThanOrEqual(2);
    }
  });
});

import { ConfigurationError } from '../../errors/configuration-error.js';
import { isGomesError } from '../../errors/gomes-error.js';
import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import type { ProcessingContext } from '../processing-context.js';
import { AbortScope, scopedContext } from '../abort-scope.js';
import { staleAttemptsSettled } from '../stale-attempts.js';
import { processingTimeout } from './processing-timeout.js';
import { recordingLogger } from '../../../test/support/recording-logger.js';

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

  it('returns the result in time, shares the state object, and leaves one unreferenced timer that ends', async () => {
    jest.useFakeTimers();
    const timers: NodeJS.Timeout[] = [];
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    const ctx = ctxWith();
    const run = processingTimeout(1000)(async (m, inner) => {
      inner.state.attempts = 7;
      return m;
    });
    await expect(run(message, ctx)).resolves.toBe(message);
    expect(ctx.state.attempts).toBe(7);
    // One timer for every message run one at a time (not a setTimeout per message) ...
    await expect(run(message, ctxWith())).resolves.toBe(message);
    await expect(run(message, ctxWith())).resolves.toBe(message);
    for (const r of setTimeoutSpy.mock.results) timers.push(r.value as NodeJS.Timeout);
    setTimeoutSpy.mockRestore();
    expect(timers).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(1);
    // ... that keeps no process alive while nothing runs, and ends at its firing.
    expect(timers[0]!.hasRef()).toBe(false);
    await jest.advanceTimersByTimeAsync(1000);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('references the shared timer again while a message runs, and times it out at its own deadline', async () => {
    jest.useFakeTimers();
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    let hang = false;
    const run = processingTimeout(1000)(async (m) =>
      hang ? new Promise<Message | undefined>(() => undefined) : m,
    );
    await expect(run(message, ctxWith())).resolves.toBe(message);
    const timer = setTimeoutSpy.mock.results[0]!.value as NodeJS.Timeout;
    setTimeoutSpy.mockRestore();
    expect(timer.hasRef()).toBe(false);
    await jest.advanceTimersByTimeAsync(400);
    // Started at 400: its deadline is 1400; the shared timer (armed for 1000) fires first and re-arms.
    hang = true;
    const outcome = run(message, ctxWith()).catch((e: unknown) => e);
    expect(timer.hasRef()).toBe(true);
    let settled = false;
    void outcome.then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(isGomesError(error) && error.code).toBe('GOMES_PROCESSING_TIMEOUT');
    expect(jest.getTimerCount()).toBe(0);
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

  describe('abandoned (stale) attempts', () => {
    function deferred(): { promise: Promise<undefined>; resolve: () => void } {
      let resolve: () => void = () => undefined;
      const promise = new Promise<undefined>((r) => (resolve = () => r(undefined)));
      return { promise, resolve };
    }

    it('records a timed-out attempt that ignores its signal until it settles, then warns and reports it', async () => {
      jest.useFakeTimers();
      const logger = recordingLogger();
      const late: number[] = [];
      const handler = deferred();
      const run = processingTimeout(100, { onStaleAttemptSettled: (_m, lateMs) => late.push(lateMs) })(
        async () => handler.promise,
      );
      const ctx = { ...ctxWith(), logger };
      const outcome = run(message, ctx).catch((e: unknown) => e);
      await jest.advanceTimersByTimeAsync(100);
      const error = await outcome;
      expect(isGomesError(error) && error.code).toBe('GOMES_PROCESSING_TIMEOUT');
      const stale = staleAttemptsSettled(ctx.state);
      expect(stale).toBeDefined();
      await jest.advanceTimersByTimeAsync(250);
      expect(late).toEqual([]);
      handler.resolve();
      await stale;
      expect(late).toHaveLength(1);
      expect(late[0]).toBeGreaterThanOrEqual(250);
      expect(staleAttemptsSettled(ctx.state)).toBeUndefined();
      expect(logger.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringContaining('settled after it was given up') as string,
        }),
      );
    });

    it('starts the next attempt of the same message only after the stale one settled', async () => {
      jest.useFakeTimers();
      const events: string[] = [];
      const first = deferred();
      let calls = 0;
      const run = processingTimeout(100)(async () => {
        const n = ++calls;
        events.push(`start ${n}`);
        if (n === 1) await first.promise; // ignores its signal
        events.push(`end ${n}`);
        return undefined;
      });
      const ctx = ctxWith();
      const attempt1 = run(message, ctx).catch((e: unknown) => e);
      await jest.advanceTimersByTimeAsync(100);
      await attempt1;
      const attempt2 = run(message, ctx); // what retry does next
      await jest.advanceTimersByTimeAsync(50);
      expect(events).toEqual(['start 1']);
      first.resolve();
      await jest.advanceTimersByTimeAsync(0);
      await attempt2;
      expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    });

    it('starts the next attempt anyway after a grace equal to the timeout, with a warning', async () => {
      jest.useFakeTimers();
      const logger = recordingLogger();
      const events: string[] = [];
      let calls = 0;
      const run = processingTimeout(100)(async () => {
        const n = ++calls;
        events.push(`start ${n}`);
        if (n === 1) await new Promise<never>(() => undefined);
        return undefined;
      });
      const ctx = { ...ctxWith(), logger };
      const attempt1 = run(message, ctx).catch((e: unknown) => e);
      await jest.advanceTimersByTimeAsync(100);
      await attempt1;
      const attempt2 = run(message, ctx);
      await jest.advanceTimersByTimeAsync(99);
      expect(events).toEqual(['start 1']);
      await jest.advanceTimersByTimeAsync(1);
      await attempt2;
      expect(events).toEqual(['start 1', 'start 2']);
      expect(logger.lines.map((l) => l.message)).toContain(
        'The previous timed-out attempt still runs after the grace period; starting the next attempt anyway',
      );
    });

    it('a parent abort ends the wait for a stale attempt at once', async () => {
      jest.useFakeTimers();
      const controller = new AbortController();
      let calls = 0;
      const run = processingTimeout(100)(async () => {
        if (++calls === 1) await new Promise<never>(() => undefined);
        return undefined;
      });
      const ctx = ctxWith(controller.signal);
      const attempt1 = run(message, ctx).catch((e: unknown) => e);
      await jest.advanceTimersByTimeAsync(100);
      await attempt1;
      const attempt2 = run(message, ctx).catch((e: unknown) => e);
      await jest.advanceTimersByTimeAsync(10);
      controller.abort();
      const error = await attempt2;
      expect(isGomesError(error) && error.code).toBe('GOMES_ABORTED');
      expect(calls).toBe(1);
    });

    it('detaches from the parent scope once the attempt settled', async () => {
      const parent = new AbortScope();
      const ctx = scopedContext(
        parent,
        { endpointName: 't', channels: { publisher: () => undefined }, state: { attempts: 0 } },
        noopLogger,
      );
      let inner: AbortSignal | undefined;
      const run = processingTimeout(1000)(async (_m, c) => {
        inner = c.signal;
        return undefined;
      });
      await run(message, ctx);
      parent.abort(new Error('shutdown'));
      expect(inner?.aborted).toBe(false);
    });
  });
});

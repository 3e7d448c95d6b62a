import { isGomesError } from '../errors/gomes-error.js';
import { noopLogger } from '../logging/logger.js';
import { MessageBuilder } from '../message/message-builder.js';
import { ReplyHeaders } from '../pipeline/middleware/send-reply.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import { waitFor } from '../testing/wait-for.js';
import { RequestReplyCoordinator } from './request-reply-coordinator.js';

/** A send that stays pending until the test resolves it. */
function pendingSend(): { send: () => Promise<void>; finish: () => void; started: () => boolean } {
  let finish: () => void = () => undefined;
  let started = false;
  const promise = new Promise<void>((resolve) => (finish = resolve));
  return {
    send: async () => {
      started = true;
      return promise;
    },
    finish: () => finish(),
    started: () => started,
  };
}

/** Outcome of a request, recorded as soon as it settles. */
function track(p: Promise<unknown>): { outcome: () => unknown; settled: () => boolean } {
  let settled = false;
  let outcome: unknown;
  p.then(
    (value) => ((settled = true), (outcome = value)),
    (error: unknown) => ((settled = true), (outcome = error)),
  );
  return { outcome: () => outcome, settled: () => settled };
}

/** Lets Node report rejections that stayed unhandled (it does so after the microtask queue). */
async function flushUnhandled(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('RequestReplyCoordinator', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  const codeOf = (e: unknown): string | undefined => (isGomesError(e) ? e.code : undefined);

  it('rejects with GOMES_REPLY_TIMEOUT while a slow send is still pending, with no unhandled rejection', async () => {
    const c = new RequestReplyCoordinator(noopLogger);
    const s = pendingSend();
    const r = track(c.request('r1', 5, undefined, s.send));
    await waitFor(() => r.settled(), 2000, {
      description: 'the caller is rejected before the send finished',
    });
    expect(codeOf(r.outcome())).toBe('GOMES_REPLY_TIMEOUT');
    expect(c.pending).toBe(0);
    s.finish();
    await flushUnhandled();
    expect(unhandled).toEqual([]);
  });

  it('rejects with GOMES_ABORTED when the signal aborts during the send, with no unhandled rejection', async () => {
    const c = new RequestReplyCoordinator(noopLogger);
    const s = pendingSend();
    const controller = new AbortController();
    const r = track(c.request('r2', 60_000, controller.signal, s.send));
    await waitFor(() => s.started());
    controller.abort();
    await waitFor(() => r.settled(), 2000);
    expect(codeOf(r.outcome())).toBe('GOMES_ABORTED');
    s.finish();
    await flushUnhandled();
    expect(unhandled).toEqual([]);
  });

  it('rejects with GOMES_CLOSED when shutdown rejects every request during the send, with no unhandled rejection', async () => {
    const c = new RequestReplyCoordinator(noopLogger);
    const s = pendingSend();
    const r = track(c.request('r3', 60_000, undefined, s.send));
    await waitFor(() => s.started());
    const { GomesError } = await import('../errors/gomes-error.js');
    c.rejectAll(new GomesError('CLOSED', 'gomes is shutting down'));
    await waitFor(() => r.settled(), 2000);
    expect(codeOf(r.outcome())).toBe('GOMES_CLOSED');
    s.finish();
    await flushUnhandled();
    expect(unhandled).toEqual([]);
  });

  it('still rejects with the send failure, and resolves with a reply that arrived before the send resolved', async () => {
    const c = new RequestReplyCoordinator(noopLogger);
    await expect(
      c.request('r4', 60_000, undefined, async () => Promise.reject(new Error('broker down'))),
    ).rejects.toThrow('broker down');

    const s = pendingSend();
    const r = track(c.request('r5', 60_000, undefined, s.send));
    await waitFor(() => s.started());
    const reply = MessageBuilder.withPayload({ ok: true }).causationId('r5').build();
    expect(c.handleReply(reply)).toBe('matched');
    await waitFor(() => r.settled(), 2000);
    expect(r.outcome()).toEqual({ ok: true });
    s.finish();
    await flushUnhandled();
    expect(unhandled).toEqual([]);
  });

  it('rejects timeouts a timer cannot honour with GOMES_CONFIGURATION before sending; Infinity means no timer', async () => {
    const c = new RequestReplyCoordinator(noopLogger);
    for (const bad of [Number.NaN, -1, 1.5, 2 ** 31, -Infinity]) {
      const send = jest.fn(async () => undefined);
      await expect(c.request(`bad-${bad}`, bad, undefined, send)).rejects.toMatchObject({
        code: 'GOMES_CONFIGURATION',
      });
      expect(send).not.toHaveBeenCalled();
    }
    jest.useFakeTimers();
    try {
      const r = track(c.request('inf', Infinity, undefined, async () => undefined));
      await jest.advanceTimersByTimeAsync(10_000);
      expect(r.settled()).toBe(false);
      c.handleReply(MessageBuilder.withPayload(42).causationId('inf').build());
      await jest.advanceTimersByTimeAsync(0);
      expect(r.outcome()).toBe(42);
    } finally {
      jest.useRealTimers();
    }
  });

  it('classifies replies: matched, foreign (another instance named), unmatched (nobody waits); counts them, logs at debug only', async () => {
    const logger = recordingLogger();
    const c = new RequestReplyCoordinator(logger, 'me');
    const r = track(c.request('q1', 60_000, undefined, async () => undefined));
    const reply = (causationId: string, instance?: string) => {
      const b = MessageBuilder.withPayload('ok').causationId(causationId);
      if (instance !== undefined) b.header(ReplyHeaders.INSTANCE, instance);
      return b.build();
    };
    expect(c.isForeign(reply('q1', 'other'))).toBe(true);
    expect(c.handleReply(reply('q1', 'other'))).toBe('foreign');
    expect(r.settled()).toBe(false);
    expect(c.handleReply(reply('q1', 'me'))).toBe('matched');
    await waitFor(() => r.settled());
    expect(r.outcome()).toBe('ok');
    expect(c.handleReply(reply('q1', 'me'))).toBe('unmatched');
    expect(c.handleReply(reply('unknown'))).toBe('unmatched');
    expect(c.stats()).toEqual({
      instanceId: 'me',
      pending: 0,
      received: 4,
      matched: 1,
      foreign: 1,
      unmatched: 2,
    });
    expect(logger.lines.filter((l) => l.level !== 'debug')).toEqual([]);
  });
});

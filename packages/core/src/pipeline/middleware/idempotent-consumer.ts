import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError, toError } from '../../errors/gomes-error.js';
import { runWithIdempotencyClaim } from '../../idempotency/idempotency-claim-context.js';
import {
  DEFAULT_IDEMPOTENCY_OPTIONS,
  validateIdempotencyOptions,
  type IdempotencyOptions,
} from '../../idempotency/idempotency-options.js';
import type { IdempotencyStore } from '../../idempotency/idempotency-store.js';
import type { Logger } from '../../logging/logger.js';
import type { Message } from '../../message/message.js';
import type { HandlerMiddleware } from '../message-handler.js';
import type { ProcessingContext } from '../processing-context.js';
import { staleAttemptSucceeded, staleAttemptsSettled } from '../stale-attempts.js';

/** Hooks of {@link idempotentConsumer}. @public */
export interface IdempotentConsumerHooks {
  /** A message whose key was already processed was skipped (it will be acked). */
  readonly onDuplicate?: (message: Message, key: string, context: ProcessingContext) => void;
}

/**
 * Idempotent Consumer: runs the rest of the pipeline at most once per message key (default
 * `messageId`) among every member sharing `store`, and skips — acks without running the handler —
 * a message whose key was already processed successfully. Each skip is logged and reported through
 * `hooks.onDuplicate` (the consumer counts it in `stats.duplicates`; traces mark it `duplicate`).
 *
 * 1. **Claim** the key with a lease of `leaseMs` (renewed every third of it while processing).
 *    - already done → skip (returns `undefined`, so the message is acked);
 *    - claimed by another member now → throw a retriable `GOMES_IDEMPOTENCY_CLAIM_HELD`: the
 *      message is nacked and redelivered, and then finds the key done (or free again, when the
 *      other member failed or died and its lease expired);
 *    - the store fails → throw a retriable `GOMES_IDEMPOTENCY_STORE_FAILED` (nacked, never run
 *      unprotected).
 * 2. Run the rest of the pipeline with the claim as the current claim (see
 *    `currentIdempotencyClaim`, used to mark the key done inside the handler's own transaction).
 * 3. On success **mark the key done** for `ttlMs`; if that write fails the message is still acked
 *    (its handler did succeed) and an error is logged: a later redelivery would run it again.
 *    A message the pipeline dead-lettered (`ctx.state.deadLettered`) is **released** instead, so a
 *    re-driven copy runs.
 * 4. On failure **release** the claim so a retry can run (after the abandoned attempts of a
 *    timed-out or aborted handler settled, holding the lease until then), and re-throw. When such
 *    an abandoned attempt finished without throwing after all, the key is **marked done** instead:
 *    its effects happened, so a redelivery (e.g. to a partition's new owner) is skipped.
 *
 * `withIdempotency(store, options)` on a consumer builder places it right inside `acknowledge`, so
 * the claim covers every retry and the dead-letter step; see docs/idempotency.md. Used through
 * `withMiddleware(...)` instead it sits inside retry: a held claim is then retried and may end
 * dead-lettered.
 *
 * @example
 * ```ts
 * builder.withIdempotency(new InMemoryIdempotencyStore(), { ttlMs: 24 * 3600_000 });
 * ```
 * @throws ConfigurationError listing every invalid option.
 * @public
 */
export function idempotentConsumer(
  store: IdempotencyStore,
  options: IdempotencyOptions,
  hooks: IdempotentConsumerHooks = {},
): HandlerMiddleware {
  ConfigurationError.throwIfAny(validateIdempotencyOptions(options), 'idempotency options');
  const leaseMs = options.leaseMs ?? DEFAULT_IDEMPOTENCY_OPTIONS.leaseMs;
  const { ttlMs } = options;
  const keyOf = options.key ?? ((m: Message) => m.messageId);
  const started = startOnce(store);
  return (next) => async (message, ctx) => {
    const messageKey = keyOf(message);
    const key = storedKey(options.scope ?? ctx.endpointName, messageKey);
    let claim;
    try {
      await started();
      claim = await store.claim(key, leaseMs);
    } catch (error) {
      throw new GomesError(
        'IDEMPOTENCY_STORE_FAILED',
        `Idempotency store (${store.description}) could not claim message ${message.messageId}: ${toError(error).message}`,
        { cause: error, details: { key } },
      );
    }
    if (claim.status === 'done') {
      ctx.logger.info('Duplicate message skipped: its key was already processed', { idempotencyKey: key });
      hooks.onDuplicate?.(message, key, ctx);
      return undefined;
    }
    if (claim.status === 'held') {
      throw new GomesError(
        'IDEMPOTENCY_CLAIM_HELD',
        `Message ${message.messageId} is being processed by another member (key "${key}"); it will be redelivered`,
        { details: { key } },
      );
    }
    const { token } = claim;
    const lease = keepLease(store, key, token, leaseMs, ctx.logger);
    let result: Message | undefined;
    try {
      result = await runWithIdempotencyClaim({ store, key, token, ttlMs }, async () => next(message, ctx));
    } catch (error) {
      const stale = staleAttemptsSettled(ctx.state);
      // A timed-out (or aborted: shutdown, revoke) handler may still run: hold the lease until it
      // settled, then release — or mark the key done when it finished after all (its effects
      // happened: a redelivery must not run it again).
      const releasing = (stale ?? Promise.resolve()).then(async () => {
        lease.stop();
        if (staleAttemptSucceeded(ctx.state)) await markDone(store, key, token, ttlMs, ctx.logger);
        else await release(store, key, token, ctx.logger);
      });
      if (!stale) await releasing;
      throw error;
    }
    lease.stop();
    if (ctx.state.deadLettered) {
      await release(store, key, token, ctx.logger);
      return result;
    }
    await markDone(store, key, token, ttlMs, ctx.logger);
    return result;
  };
}

async function markDone(
  store: IdempotencyStore,
  key: string,
  token: string,
  ttlMs: number,
  logger: Logger,
): Promise<void> {
  try {
    await store.markDone(key, token, ttlMs);
  } catch (error) {
    logger.error(
      'The message succeeded but its idempotency marker could not be written; a redelivery of it would run again',
      { idempotencyKey: key, store: store.description, errorMessage: toError(error).message },
    );
  }
}

/** The stored key: the scope (URI-encoded, so it holds no `:`) and the message key. @internal */
export function storedKey(scope: string, messageKey: string): string {
  return `${encodeURIComponent(scope)}:${messageKey}`;
}

/** `store.start()` once; a failed start is tried again by the next call. */
function startOnce(store: IdempotencyStore): () => Promise<void> {
  let starting: Promise<void> | undefined;
  return async () => {
    if (!store.start) return;
    starting ??= store.start().catch((error: unknown) => {
      starting = undefined;
      throw error;
    });
    return starting;
  };
}

async function release(store: IdempotencyStore, key: string, token: string, logger: Logger): Promise<void> {
  try {
    await store.release(key, token);
  } catch (error) {
    logger.warn('Releasing an idempotency claim failed; it is free again when its lease expires', {
      idempotencyKey: key,
      errorMessage: toError(error).message,
    });
  }
}

/** Renews the lease every third of `leaseMs` until stopped (one renewal in flight at a time). */
function keepLease(
  store: IdempotencyStore,
  key: string,
  token: string,
  leaseMs: number,
  logger: Logger,
): { stop(): void } {
  let renewing = false;
  let stopped = false;
  const timer = setInterval(
    () => {
      if (renewing || stopped) return;
      renewing = true;
      store
        .renew(key, token, leaseMs)
        .then((outcome) => {
          if (outcome === 'renewed') return;
          stopped = true;
          clearInterval(timer);
          if (outcome === 'lost') {
            logger.error(
              'Idempotency lease lost while the message was processed: another member may run it too (raise leaseMs)',
              { idempotencyKey: key, leaseMs },
            );
          }
        })
        .catch((error: unknown) =>
          logger.warn('Renewing an idempotency lease failed; trying again', {
            idempotencyKey: key,
            errorMessage: toError(error).message,
          }),
        )
        .finally(() => (renewing = false));
    },
    Math.max(100, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return {
    stop(): void {
      stopped = true;
      clearInterval(timer);
    },
  };
}

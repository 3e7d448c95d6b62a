import { toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { ConsumeEngine } from '../consume/consume-engine.js';
import type { SubscriptionSource } from '../consume/subscription-source.js';
import { withinBudget } from '../internal/within-budget.js';

/** What {@link stopConsumeEngine} stops. @internal */
export interface StopConsumeEngineParams {
  readonly engine: ConsumeEngine;
  /** Set when the consumer runs on a subscribe-only channel. */
  readonly subscription: SubscriptionSource | undefined;
  /** How long the buffered messages get to finish, in ms (`Infinity`: no timer). */
  readonly budgetMs: number;
  /** The consumer crashed: nothing more starts. */
  readonly crashed: boolean;
  /** What the transport still gets once the budget expired, in ms. */
  readonly graceMs: number;
  readonly logger: Logger;
}

/**
 * An event-driven consumer's stop: stops the subscription's intake (when on a subscribe-only
 * channel), then the engine (drain within the budget, commit, close the source). Waits at most
 * `budgetMs + graceMs`; what is still pending then is abandoned and logged as an error (the
 * transport redelivers whatever it did not settle). Never rejects.
 *
 * @internal
 */
export async function stopConsumeEngine(p: StopConsumeEngineParams): Promise<void> {
  const { engine, subscription, logger } = p;
  void subscription?.stopIntake();
  // Synchronously first: a message failing meanwhile is left to the transport, not run again.
  const stopping = engine
    .stop(p.budgetMs, p.crashed)
    .catch((e: unknown) => logger.error('Closing the source failed', { errorMessage: toError(e).message }));
  if (await withinBudget(stopping, p.budgetMs === Infinity ? Infinity : p.budgetMs + p.graceMs)) return;
  const pending = subscription?.pending();
  logger.error('Stop grace expired; abandoning the transport calls still pending', {
    stopGraceMs: p.graceMs,
    inFlight: engine.inFlight,
    ...(pending
      ? {
          subscriptionStopPending: pending.subscriptionStopPending,
          // Not settled with the transport: it redelivers them (they were never acked).
          abandonedDeliveries: pending.unsettled,
        }
      : {}),
  });
}

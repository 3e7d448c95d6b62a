import type { ConsumerPipelineHooks } from '../pipeline/consumer-pipeline.js';
import type { HandlerMiddleware } from '../pipeline/message-handler.js';

/**
 * Instrumentation plugged into a consumer pipeline (see `consumerPipeline`'s `observability`
 * option): a middleware run outermost (around `acknowledge`) and hooks called next to the
 * pipeline's own.
 *
 * @public
 */
export interface PipelineObservability {
  /** Runs outermost, around the whole pipeline run of one delivery. */
  readonly middleware: HandlerMiddleware;
  /** Called in addition to the pipeline's hooks. */
  readonly hooks: ConsumerPipelineHooks;
}

type HookName = keyof ConsumerPipelineHooks;
const HOOK_NAMES: readonly HookName[] = [
  'onAcked',
  'onNacked',
  'onRetry',
  'onDeadLettered',
  'onFiltered',
  'onDuplicate',
  'onReplyDropped',
  'onStaleAttemptSettled',
];

/** Hooks calling `a`'s then `b`'s. @internal */
export function mergeHooks(
  a: ConsumerPipelineHooks,
  b: ConsumerPipelineHooks | undefined,
): ConsumerPipelineHooks {
  if (!b) return a;
  const merged: Record<string, (...args: never[]) => void> = {};
  for (const name of HOOK_NAMES) {
    const first = a[name] as ((...args: never[]) => void) | undefined;
    const second = b[name] as ((...args: never[]) => void) | undefined;
    if (first && second) {
      merged[name] = (...args: never[]) => {
        first(...args);
        second(...args);
      };
    } else if (first ?? second) {
      merged[name] = (first ?? second)!;
    }
  }
  const hooks: ConsumerPipelineHooks = merged;
  return hooks;
}

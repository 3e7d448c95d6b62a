import type { ConsumerEndpointOptions } from '../channel/channel-builders.js';
import type { Message } from '../message/message.js';
import {
  composeMiddleware,
  type HandlerMiddleware,
  type MessageHandlerFn,
} from '../pipeline/message-handler.js';
import { afterInterceptors, beforeInterceptors } from '../pipeline/middleware/interceptors.js';
import { messageFilter } from '../pipeline/middleware/message-filter.js';
import { retry } from '../pipeline/middleware/retry.js';
import type { ProcessingContext } from '../pipeline/processing-context.js';
import { DEFAULT_REPLAY_OPTIONS, type ReplayHandler, type ReplayOptions } from './replay-options.js';

/** Input of {@link replayPipeline}. @internal */
export interface ReplayPipelineInit {
  readonly options: ReplayOptions;
  /** The registered action handlers (the default terminal step). */
  readonly registeredHandler: MessageHandlerFn;
  /** The endpoint options of `options.consumer`, when given. */
  readonly consumer: ConsumerEndpointOptions | undefined;
  /** Called when the consumer's filter or a before-interceptor dropped a message. */
  readonly onFiltered: (message: Message, context: ProcessingContext) => void;
}

/**
 * The handling steps of a replay, outermost first:
 *
 * 1. `retry` — `options.retry`, else the consumer's retry options, else the replay defaults;
 * 2. with `options.consumer`: that consumer's user middleware, before-interceptors, filter and
 *    after-interceptors, in the order its own pipeline runs them (a dropped message is reported
 *    through `onFiltered`);
 * 3. the terminal step: `options.handler`, else the registered action handlers.
 *
 * Delivery steps of the consumer (acknowledge, idempotency, dead letter, replies) are not part of a
 * replay: it has nothing to ack, must handle what an idempotency store calls done, and reports its
 * failures instead of dead-lettering them.
 *
 * @internal
 */
export function replayPipeline(init: ReplayPipelineInit): MessageHandlerFn {
  const { options, consumer } = init;
  const terminal = options.handler ? explicitHandler(options.handler) : init.registeredHandler;
  const steps: HandlerMiddleware[] = [
    retry({ ...DEFAULT_REPLAY_OPTIONS.retry, ...(options.retry ?? consumer?.retry) }),
  ];
  if (consumer) {
    steps.push(...consumer.middleware);
    if (consumer.beforeInterceptors.length > 0) {
      steps.push(
        beforeInterceptors(consumer.beforeInterceptors, {
          onStopped: (message, _index, context) => init.onFiltered(message, context),
        }),
      );
    }
    if (consumer.filter !== undefined)
      steps.push(messageFilter(consumer.filter, { onFiltered: init.onFiltered }));
    if (consumer.afterInterceptors.length > 0) steps.push(afterInterceptors(consumer.afterInterceptors));
  }
  return composeMiddleware(steps, terminal);
}

/** An explicit handler as the terminal step of the replay's pipeline. */
function explicitHandler(handler: ReplayHandler): MessageHandlerFn {
  return async (message, context) => {
    await handler(message, context as Parameters<ReplayHandler>[1]);
    return undefined;
  };
}

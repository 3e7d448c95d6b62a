import { GomesError, toError } from '../errors/gomes-error.js';
import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import type { GomesTelemetry } from '../observability/gomes-telemetry.js';
import { traceHandler } from '../observability/handler-tracing.js';
import { MessageBuilder } from '../message/message-builder.js';
import { runHandling } from '../bus/causation-scope.js';
import type { MessageHandlerFn } from '../pipeline/message-handler.js';
import { defineContextAccessors } from '../pipeline/abort-scope.js';
import type { ProcessingContext } from '../pipeline/processing-context.js';
import type { ActionRegistry } from './action-registry.js';
import { checkAction, needsValidation, toActionInstance } from './action-validation.js';
import type { ResolvedActionValidationOptions } from './action-validation-options.js';
import type { HandlerContext } from './handler-context.js';
import type { HandlerDefinition } from './handler-definition.js';

/** Options of {@link createActionDispatcher}. @internal */
export interface ActionDispatcherOptions {
  /** Validate payloads with class-validator before handling. */
  readonly validate: boolean;
  /** class-validator options (whitelist, …) applied when validating. */
  readonly validation: ResolvedActionValidationOptions;
  /** Tracing: each handler call gets its own span when tracing is on. */
  readonly telemetry?: GomesTelemetry;
  /**
   * Each handler call runs in the causation scope of its message, so bus calls inside it inherit
   * its ids (`GomesOptions.inheritCausation`). @default false
   */
  readonly inheritCausation?: boolean;
}

function handlerContext(
  message: Message,
  context: ProcessingContext,
  logger: Logger | undefined,
): HandlerContext {
  const handlerContext = {
    message,
    headers: message.headers,
    messageId: message.messageId,
    correlationId: message.correlationId,
    attempt: Math.max(1, context.state.attempts),
    deliveryAttempt: context.delivery?.deliveryAttempt ?? 1,
  };
  // `signal` (and the logger, unless given) are read from the context on use: the pipeline creates
  // the AbortSignal and the message logger only when someone asks for them.
  return defineContextAccessors(handlerContext, context, logger) as unknown as HandlerContext;
}

/**
 * The terminal step of every consumer pipeline and of the in-process buses: finds the handlers of
 * the message's `route`, turns the payload into the action class (nested `@Type` classes
 * included), validates it and calls the
 * handler(s). Commands and queries return a result message (payload = handler result, causationId
 * = the request's messageId); events run every local handler and fail if any failed.
 *
 * Errors: no route / unknown route → `GOMES_HANDLER_NOT_FOUND`, invalid payload →
 * `GOMES_VALIDATION`; both non-retriable, so they go straight to the dead-letter channel.
 *
 * @internal
 */
export function createActionDispatcher(
  registry: ActionRegistry,
  options: ActionDispatcherOptions,
): MessageHandlerFn {
  return async (message, context) => {
    const route = message.route;
    const entry = route === undefined ? undefined : registry.get(route);
    if (!entry) {
      throw new GomesError(
        'HANDLER_NOT_FOUND',
        route === undefined ? 'Message has no route header' : `No handler is registered for "${route}"`,
        { details: { route, messageId: message.messageId } },
      );
    }
    const action = toActionInstance(entry.action, message.payload, entry.descriptor.name);
    if (options.validate && needsValidation(action))
      await checkAction(action, entry.descriptor.name, options.validation);
    const telemetry = options.telemetry;
    const run = async (h: HandlerDefinition): Promise<unknown> =>
      telemetry?.tracing
        ? traceHandler(telemetry, h.handlerName, message, context.logger, async (logger) =>
            h.handle(action as never, handlerContext(message, context, logger)),
          )
        : h.handle(action, handlerContext(message, context, undefined));
    // Bus calls inside the handler inherit this message's ids (see bus/causation-scope.ts).
    const call = options.inheritCausation
      ? async (h: HandlerDefinition) => runHandling(message, run, h)
      : run;

    if (entry.descriptor.kind === 'event') {
      if (entry.handlers.length === 1) {
        try {
          await call(entry.handlers[0]!);
        } catch (error) {
          throw toError(error);
        }
        return undefined;
      }
      const outcomes = await Promise.allSettled(entry.handlers.map(call));
      const failures = outcomes.flatMap((o, i) =>
        o.status === 'rejected'
          ? [{ handler: entry.handlers[i]!.handlerName, error: toError(o.reason) }]
          : [],
      );
      if (failures.length === 1) throw failures[0]!.error;
      if (failures.length > 1) {
        throw new GomesError(
          'HANDLER_FAILED',
          `${failures.length} handlers of event "${route}" failed: ` +
            failures.map((f) => `${f.handler}: ${f.error.message}`).join('; '),
          {
            cause: failures[0]!.error,
            retriable: failures.every((f) => (f.error as { retriable?: boolean }).retriable !== false),
          },
        );
      }
      return undefined;
    }

    const result: unknown = await call(entry.handlers[0]!);
    const reply = MessageBuilder.withPayload(result).messageType('Document').causationId(message.messageId);
    if (message.correlationId !== undefined) reply.correlationId(message.correlationId);
    return reply.build();
  };
}

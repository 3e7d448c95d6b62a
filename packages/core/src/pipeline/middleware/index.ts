/**
 * Built-in handler middleware, one per file. Each factory returns a `HandlerMiddleware`.
 *
 * @packageDocumentation
 */
export { acknowledge, DEFAULT_ACKNOWLEDGE_OPTIONS, type AcknowledgeOptions } from './acknowledge.js';
export { deadLetter, type DeadLetterOptions } from './dead-letter.js';
export { retry, type RetryHooks } from './retry.js';
export {
  processingTimeout,
  MAX_PROCESSING_TIMEOUT_MS,
  type ProcessingTimeoutHooks,
} from './processing-timeout.js';
export { beforeInterceptors, afterInterceptors, type BeforeInterceptorsOptions } from './interceptors.js';
export { messageFilter, type MessageFilterOptions } from './message-filter.js';
export {
  recipientListRouter,
  type RecipientListRouterOptions,
  type RecipientSelector,
} from './recipient-list-router.js';
export {
  contentBasedRouter,
  type ContentBasedRouterOptions,
  type ChannelSelector,
} from './content-based-router.js';
export { sendReply, ReplyHeaders, type ErrorReplyPayload, type SendReplyOptions } from './send-reply.js';
export { idempotentConsumer, type IdempotentConsumerHooks } from './idempotent-consumer.js';

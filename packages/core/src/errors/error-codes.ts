/**
 * Every stable error code of gomes, with whether an error of that code is worth retrying by default.
 *
 * Codes never change meaning once released; `docs/errors.md` lists them.
 *
 * @public
 */
export const ErrorCodes = {
  /** The configuration given to `start()` or a builder is invalid (lists every problem). */
  CONFIGURATION: { code: 'GOMES_CONFIGURATION', retriable: false },
  /** A payload failed class-validator validation (on send or on receive). */
  VALIDATION: { code: 'GOMES_VALIDATION', retriable: false },
  /** No handler is registered for a message's route. */
  HANDLER_NOT_FOUND: { code: 'GOMES_HANDLER_NOT_FOUND', retriable: false },
  /** A handler threw; retriable unless the thrown error says otherwise. */
  HANDLER_FAILED: { code: 'GOMES_HANDLER_FAILED', retriable: true },
  /** A handler did not finish within the processing timeout; its signal was aborted. */
  PROCESSING_TIMEOUT: { code: 'GOMES_PROCESSING_TIMEOUT', retriable: true },
  /** A record or message could not be decoded into a gomes message. */
  TRANSLATION_FAILED: { code: 'GOMES_TRANSLATION_FAILED', retriable: false },
  /** A message header is malformed or a reserved header was set as a custom header. */
  INVALID_HEADER: { code: 'GOMES_INVALID_HEADER', retriable: false },
  /** A channel, bus, consumer or connection is unknown. */
  NOT_FOUND: { code: 'GOMES_NOT_FOUND', retriable: false },
  /** A channel or component is closed (or shutting down) and cannot take the operation. */
  CLOSED: { code: 'GOMES_CLOSED', retriable: false },
  /** The instance is not started, or the operation needs a state it is not in. */
  ILLEGAL_STATE: { code: 'GOMES_ILLEGAL_STATE', retriable: false },
  /** A publish to a channel failed; the message was not written (retrying cannot duplicate it). */
  PUBLISH_FAILED: { code: 'GOMES_PUBLISH_FAILED', retriable: true },
  /**
   * A publish failed or timed out after the message may have reached the broker: it may or may not
   * have been written. A retry may duplicate it (consumers dedupe on `messageId`).
   */
  PUBLISH_OUTCOME_UNKNOWN: { code: 'GOMES_PUBLISH_OUTCOME_UNKNOWN', retriable: true },
  /** Publishing to the dead-letter channel failed; the original message is not acknowledged. */
  DEAD_LETTER_FAILED: { code: 'GOMES_DEAD_LETTER_FAILED', retriable: true },
  /** A request-reply call got no reply in time. */
  REPLY_TIMEOUT: { code: 'GOMES_REPLY_TIMEOUT', retriable: true },
  /** A remote handler answered a request with an error. */
  REMOTE_HANDLER_FAILED: { code: 'GOMES_REMOTE_HANDLER_FAILED', retriable: false },
  /** The operation was aborted through its AbortSignal or by shutdown. */
  ABORTED: { code: 'GOMES_ABORTED', retriable: true },
  /** A connection to a broker could not be established or was lost. */
  CONNECTION_FAILED: { code: 'GOMES_CONNECTION_FAILED', retriable: true },
  /** Broker authentication failed (wrong credentials, mechanism or TLS identity). */
  AUTHENTICATION_FAILED: { code: 'GOMES_AUTHENTICATION_FAILED', retriable: false },
  /** A consumer crashed (its client stopped) and was reported. */
  CONSUMER_CRASHED: { code: 'GOMES_CONSUMER_CRASHED', retriable: true },
  /**
   * A topic a consumer reads does not exist on the broker and gomes was not asked to create it
   * (create it, or configure the builder to provision it, e.g. `withTopic()`).
   */
  TOPIC_NOT_FOUND: { code: 'GOMES_TOPIC_NOT_FOUND', retriable: false },
  /** A schema registry request failed (unreachable, timed out, server error; retriable unless the registry refused it). */
  SCHEMA_REGISTRY_FAILED: { code: 'GOMES_SCHEMA_REGISTRY_FAILED', retriable: true },
  /** A schema id, subject or schema is not in the schema registry. */
  SCHEMA_NOT_FOUND: { code: 'GOMES_SCHEMA_NOT_FOUND', retriable: false },
  /** A schema breaks the compatibility rule of its subject, or a reader schema cannot read a writer schema. */
  SCHEMA_INCOMPATIBLE: { code: 'GOMES_SCHEMA_INCOMPATIBLE', retriable: false },
  /** Another member holds the idempotency claim of the message (it is processing it); it is redelivered. */
  IDEMPOTENCY_CLAIM_HELD: { code: 'GOMES_IDEMPOTENCY_CLAIM_HELD', retriable: true },
  /** The idempotency store could not be reached or refused an operation; the message is redelivered. */
  IDEMPOTENCY_STORE_FAILED: { code: 'GOMES_IDEMPOTENCY_STORE_FAILED', retriable: true },
  /** Declared topics could not be created, or (with `onMismatch: 'fail'`) existing ones differ. */
  TOPIC_PROVISIONING_FAILED: { code: 'GOMES_TOPIC_PROVISIONING_FAILED', retriable: false },
  /** A channel's transport lacks a capability the operation needs (reading it back). */
  NOT_SUPPORTED: { code: 'GOMES_NOT_SUPPORTED', retriable: false },
  /** A replay checkpoint could not be loaded from or saved to its store. */
  REPLAY_CHECKPOINT_FAILED: { code: 'GOMES_REPLAY_CHECKPOINT_FAILED', retriable: true },
} as const;

/** The name of an entry of {@link ErrorCodes}. @public */
export type ErrorCodeName = keyof typeof ErrorCodes;

/** A stable gomes error code string such as `GOMES_VALIDATION`. @public */
export type ErrorCode = (typeof ErrorCodes)[ErrorCodeName]['code'];

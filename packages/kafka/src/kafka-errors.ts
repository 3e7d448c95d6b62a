import { GomesError, isGomesError } from '@gomes/core';

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

const AUTH_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
]);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  type?: unknown;
  /** Kafka's error name on a `@platformatic/kafka` ProtocolError. */
  apiId?: unknown;
  cause?: unknown;
  originalError?: unknown;
  /** The errors of an aggregate (`@platformatic/kafka` MultipleErrors: one per attempt or partition). */
  errors?: unknown;
}

/**
 * Every error in the chain (`cause`, kafkajs' `originalError`, the members of an aggregate such as
 * `@platformatic/kafka`'s MultipleErrors), outermost first, depth first. @internal
 */
export function errorChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  const visit = (current: unknown): void => {
    if (typeof current !== 'object' || current === null || chain.length >= 20 || chain.includes(current))
      return;
    const e = current as ErrorLike;
    chain.push(e);
    if (Array.isArray(e.errors)) for (const inner of e.errors as unknown[]) visit(inner);
    visit(e.originalError ?? e.cause);
  };
  visit(error);
  return chain;
}

/** Kafka's name of a broker error (`UNKNOWN_TOPIC_OR_PARTITION`, …): kafkajs' `type`, platformatic's `apiId`. */
function kafkaErrorName(e: ErrorLike): string | undefined {
  if (typeof e.type === 'string') return e.type;
  return typeof e.apiId === 'string' ? e.apiId : undefined;
}

/** The innermost useful message of an error chain. @internal */
export function rootMessage(error: unknown): string {
  const chain = errorChain(error);
  const messages = chain.map((e) => (typeof e.message === 'string' ? e.message : '')).filter((m) => m !== '');
  if (messages.length === 0) return String(error);
  const outer = messages[0] as string;
  const inner = messages[messages.length - 1] as string;
  return outer === inner ? outer : `${outer} (${inner})`;
}

/** Whether an error is an authentication / authorization / TLS-identity failure. @internal */
export function isAuthenticationError(error: unknown): boolean {
  return errorChain(error).some(
    (e) =>
      e.name === 'KafkaJSSASLAuthenticationError' ||
      e.code === 'PLT_KFK_AUTHENTICATION' ||
      AUTH_TYPES.has(kafkaErrorName(e) ?? '') ||
      (typeof e.code === 'string' && TLS_CODES.has(e.code)),
  );
}

/** Whether a client error says a topic (or one of its partitions) does not exist. @internal */
export function isUnknownTopicError(error: unknown): boolean {
  return errorChain(error).some((e) => kafkaErrorName(e) === 'UNKNOWN_TOPIC_OR_PARTITION');
}

/**
 * Maps a client error met while reaching the cluster to `GOMES_AUTHENTICATION_FAILED` (credentials,
 * SASL mechanism, TLS identity) or `GOMES_CONNECTION_FAILED` (everything else).
 *
 * @internal
 */
export function toConnectionError(
  error: unknown,
  where: string,
  details: Readonly<Record<string, unknown>>,
): GomesError {
  if (isGomesError(error)) return error;
  const reason = rootMessage(error);
  if (isAuthenticationError(error)) {
    return new GomesError('AUTHENTICATION_FAILED', `Authentication to ${where} failed: ${reason}`, {
      cause: error,
      details,
    });
  }
  return new GomesError('CONNECTION_FAILED', `Cannot connect to ${where}: ${reason}`, {
    cause: error,
    details,
  });
}

/**
 * Broker error types a produce request fails with that retrying the same request cannot fix (the
 * record is too large for the topic, the client may not write it, the topic or request is invalid).
 */
const NON_RETRIABLE_PRODUCE_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_VERSION',
  'POLICY_VIOLATION',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'INVALID_CONFIG',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/**
 * Whether a produce (or topic set-up) failure will fail again however often it is retried: an
 * authentication / authorization failure, a configuration error, or one of the broker errors above.
 * Timeouts, unavailable leaders and lost connections are retriable.
 *
 * @internal
 */
export function isNonRetriableProduceError(error: unknown): boolean {
  if (isAuthenticationError(error)) return true;
  return errorChain(error).some(
    (e) => NON_RETRIABLE_PRODUCE_TYPES.has(kafkaErrorName(e) ?? '') || e.name === 'ConfigurationError',
  );
}

/**
 * Describes why a record could not be decoded without quoting the record: `JSON.parse` messages
 * carry fragments of the payload (`Unexpected token 'x', "<payload>" is not valid JSON`), which must
 * not reach logs or the `gomes.dlq.reason` header, so a `SyntaxError` is reduced to its name and
 * position. Other errors keep their message.
 *
 * @internal
 */
export function describeDecodeError(error: unknown): string {
  if (!(error instanceof Error)) return 'a non-Error value was thrown';
  if (error.name !== 'SyntaxError') return error.message;
  const position = /\bposition (\d+)/.exec(error.message)?.[1];
  return position === undefined ? 'SyntaxError' : `SyntaxError at position ${position}`;
}

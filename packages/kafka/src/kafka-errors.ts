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
  cause?: unknown;
  originalError?: unknown;
}

/** Every error in the chain (`cause`, kafkajs' `originalError`), outermost first. @internal */
export function errorChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && chain.length < 10) {
    const e = current as ErrorLike;
    chain.push(e);
    current = e.originalError ?? e.cause;
  }
  return chain;
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
      (typeof e.type === 'string' && AUTH_TYPES.has(e.type)) ||
      (typeof e.code === 'string' && TLS_CODES.has(e.code)),
  );
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

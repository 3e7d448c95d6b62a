import { ConfigurationError } from '@gomes/core';

/** TLS settings of the registry connection (an `https://` URL). @public */
export interface SchemaRegistryTlsOptions {
  /** CA certificate(s), PEM, to trust besides the system ones (e.g. a private CA). */
  readonly ca?: string | Buffer;
  /** Client certificate, PEM (mutual TLS). */
  readonly cert?: string | Buffer;
  /** Client private key, PEM (mutual TLS). */
  readonly key?: string | Buffer;
  /** Server name for SNI and the certificate check, when it differs from the URL's host. */
  readonly servername?: string;
  /** Verify the registry's certificate. Turn off only for local experiments. @default true */
  readonly rejectUnauthorized?: boolean;
}

/** HTTP basic auth credentials (Confluent Cloud: API key and secret). @public */
export interface SchemaRegistryAuth {
  readonly username: string;
  readonly password: string;
}

/**
 * Options of a {@link SchemaRegistryClient}.
 *
 * @public
 */
export interface SchemaRegistryOptions {
  /**
   * Base URL of the Confluent-compatible REST API (v7), e.g. `http://registry:8081` (Confluent) or
   * `http://apicurio:8080/apis/ccompat/v7` (Apicurio).
   */
  readonly url: string;
  /** HTTP basic auth. @default none */
  readonly auth: SchemaRegistryAuth | undefined;
  /** TLS settings for an `https://` URL. @default system CAs, certificate checked */
  readonly tls: SchemaRegistryTlsOptions | undefined;
  /** How long one request may take before it fails (retriable), in ms. @default 10000 */
  readonly requestTimeoutMs: number;
  /** Most concurrent connections to the registry. @default 10 */
  readonly maxSockets: number;
  /** Extra headers sent with every request. @default none */
  readonly headers: Readonly<Record<string, string>>;
}

/** Defaults of {@link SchemaRegistryOptions} (`url` has none). @public */
export const DEFAULT_SCHEMA_REGISTRY_OPTIONS: Readonly<Omit<SchemaRegistryOptions, 'url'>> = Object.freeze({
  auth: undefined,
  tls: undefined,
  requestTimeoutMs: 10_000,
  maxSockets: 10,
  headers: Object.freeze({}),
});

const KNOWN_KEYS = new Set(['url', ...Object.keys(DEFAULT_SCHEMA_REGISTRY_OPTIONS)]);

/**
 * Merges defaults and checks every option.
 *
 * @throws ConfigurationError listing every problem.
 * @public
 */
export function resolveSchemaRegistryOptions(
  input: Partial<SchemaRegistryOptions> & { url: string },
): SchemaRegistryOptions {
  const problems: string[] = [];
  for (const key of Object.keys(input)) if (!KNOWN_KEYS.has(key)) problems.push(`unknown option "${key}"`);
  const options: SchemaRegistryOptions = { ...DEFAULT_SCHEMA_REGISTRY_OPTIONS, ...input };
  let url: URL | undefined;
  try {
    url = new URL(options.url);
  } catch {
    problems.push(`url must be an absolute http(s) URL, got ${JSON.stringify(options.url)}`);
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:')
    problems.push(`url must use http or https, got ${url.protocol}`);
  if (url && (url.username || url.password))
    problems.push('url must not contain credentials: use the auth option (they would end up in logs)');
  if (options.auth !== undefined) {
    if (typeof options.auth.username !== 'string' || options.auth.username === '')
      problems.push('auth.username must be a non-empty string');
    if (typeof options.auth.password !== 'string') problems.push('auth.password must be a string');
  }
  if (options.tls !== undefined && url && url.protocol !== 'https:')
    problems.push('tls options need an https:// url');
  if (options.tls && (options.tls.cert === undefined) !== (options.tls.key === undefined))
    problems.push('tls.cert and tls.key go together (mutual TLS needs both)');
  const positive = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) problems.push(`${name} must be an integer >= 1, got ${String(v)}`);
  };
  positive('requestTimeoutMs', options.requestTimeoutMs);
  positive('maxSockets', options.maxSockets);
  ConfigurationError.throwIfAny(problems, 'schema registry options');
  return options;
}

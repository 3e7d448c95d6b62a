import http from 'node:http';
import https from 'node:https';
import { GomesError, isGomesError } from '@gomes/core';
import type { SchemaRegistryOptions } from './schema-registry-options.js';

/** A registry answer that is not a success: its HTTP status and Confluent `error_code`. @internal */
export interface RegistryErrorBody {
  readonly status: number;
  readonly errorCode: number | undefined;
  readonly message: string;
}

/** Confluent error codes this package branches on. @internal */
export const RegistryErrorCodes = {
  SUBJECT_NOT_FOUND: 40401,
  VERSION_NOT_FOUND: 40402,
  SCHEMA_NOT_FOUND: 40403,
} as const;

/**
 * The HTTP side of the registry client: one keep-alive agent, basic auth, TLS options, a timeout per
 * request, JSON in and out. Built on `node:http(s)` rather than `fetch`, whose Node implementation
 * takes no CA / client certificate without an extra dependency.
 *
 * Failures become GomesErrors: `SCHEMA_REGISTRY_FAILED`, retriable for network errors, timeouts, 5xx
 * and 429, not retriable for other 4xx (wrong credentials, a refused request); 404s carry the
 * Confluent error code in `details.errorCode` for the caller to map.
 *
 * @internal
 */
export class RegistryHttp {
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(options: SchemaRegistryOptions) {
    this.#base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    const tls = options.tls;
    this.#agent =
      this.#base.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            maxSockets: options.maxSockets,
            ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
            ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
            ...(tls?.key !== undefined ? { key: tls.key } : {}),
            ...(tls?.servername !== undefined ? { servername: tls.servername } : {}),
            rejectUnauthorized: tls?.rejectUnauthorized ?? true,
          })
        : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets });
    this.#authorization = options.auth
      ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
      : undefined;
    this.#timeoutMs = options.requestTimeoutMs;
    this.#headers = { ...options.headers };
  }

  /** The registry base URL (no credentials). */
  get url(): string {
    return this.#base.href;
  }

  /** `method path` with an optional JSON body; resolves with the parsed JSON answer. */
  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const what = `${method} ${url.pathname}${url.search}`;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(
        url,
        {
          method,
          agent: this.#agent,
          timeout: this.#timeoutMs,
          headers: {
            ...this.#headers,
            accept: 'application/vnd.schemaregistry.v1+json, application/json',
            ...(payload ? { 'content-type': 'application/vnd.schemaregistry.v1+json' } : {}),
            ...(payload ? { 'content-length': String(payload.length) } : {}),
            ...(this.#authorization ? { authorization: this.#authorization } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (error) => reject(this.#networkError(what, error)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text === '' ? undefined : JSON.parse(text);
            } catch {
              json = undefined;
            }
            if (status >= 200 && status < 300) return resolve(json as T);
            reject(this.#httpError(what, status, json, text));
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(
          Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        ),
      );
      req.on('error', (error) => reject(this.#networkError(what, error)));
      req.end(payload);
    });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  #networkError(what: string, error: Error): GomesError {
    const code = (error as { code?: string }).code;
    // A TLS identity problem does not fix itself: not retriable.
    const tlsIdentity = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/i.test(code ?? '');
    return new GomesError(
      'SCHEMA_REGISTRY_FAILED',
      `Schema registry ${this.#base.origin} did not answer ${what}: ${error.message}${code && !error.message.includes(code) ? ` (${code})` : ''}`,
      { cause: error, retriable: !tlsIdentity, details: { url: this.#base.origin, request: what, code } },
    );
  }

  #httpError(what: string, status: number, json: unknown, text: string): GomesError {
    const body = (json ?? {}) as { message?: unknown; error_code?: unknown };
    const message =
      typeof body.message === 'string' && body.message !== ''
        ? body.message
        : text.trim().slice(0, 200) || httpReason(status);
    const errorCode = typeof body.error_code === 'number' ? body.error_code : undefined;
    const retriable = status >= 500 || status === 429 || status === 408;
    const auth = status === 401 || status === 403;
    return new GomesError(
      'SCHEMA_REGISTRY_FAILED',
      `Schema registry ${this.#base.origin} answered ${what} with HTTP ${status}: ${message}${auth ? ' (check the registry credentials)' : ''}`,
      { retriable, details: { url: this.#base.origin, request: what, status, errorCode } },
    );
  }
}

function httpReason(status: number): string {
  return http.STATUS_CODES[status] ?? 'error';
}

/** The HTTP status and Confluent error code of a registry failure, when it is one. @internal */
export function registryErrorOf(error: unknown): RegistryErrorBody | undefined {
  if (!isGomesError(error) || error.code !== 'GOMES_SCHEMA_REGISTRY_FAILED') return undefined;
  const details = error.details as { status?: number; errorCode?: number } | undefined;
  if (details?.status === undefined) return undefined;
  return { status: details.status, errorCode: details.errorCode, message: error.message };
}

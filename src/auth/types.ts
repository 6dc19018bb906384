/**
 * The authentication contract. Each method is a stateless descriptor; `create` validates and precomputes
 * (decoded secrets, header names, digests) once at config load and returns the per-request `verify`
 * closure, which reads headers and raw bytes and compares secrets in constant time.
 *
 * A method never throws for a bad request: it returns an `AuthFailure` with a stable code. It may throw
 * from `create` only for a configuration it cannot use (the loader reports that with its path).
 */
import type { z } from 'zod';
import type { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../observability/logger.js';

/** What a method sees of an incoming request. */
export interface AuthRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Request target as received: path plus query string (e.g. `/webhook/x?a=1`). */
  readonly url: string;
  /** Path without the query string. */
  readonly path: string;
  /** `http` or `https`, after `X-Forwarded-Proto` from a trusted proxy. */
  readonly protocol: 'http' | 'https';
  /** The `Host` the client used (with port when not default), after `X-Forwarded-Host` from a trusted proxy. */
  readonly host: string;
  /** Header names lower-cased; repeated headers joined with `, ` (`set-cookie` excepted). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The exact body bytes. */
  readonly rawBody: Buffer;
  /** Query parameters; a repeated parameter keeps every value in order. */
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  /** The client address after trusted-proxy resolution (never taken from headers of an untrusted peer). */
  readonly clientIp: string | undefined;
  /** The TCP peer address. */
  readonly peerIp: string | undefined;
}

export interface AuthSuccess {
  readonly ok: true;
}

export interface AuthFailure {
  readonly ok: false;
  /** Stable error code (`WC_AUTH_*`). */
  readonly code: ErrorCode;
  /** Public detail: never a secret, never which part of a secret matched. */
  readonly detail: string;
  /** `WWW-Authenticate` challenge value, for schemes that have one. */
  readonly challenge?: string;
}

export type AuthResult = AuthSuccess | AuthFailure;

export type AuthVerifier = (request: AuthRequest) => AuthResult | Promise<AuthResult>;

/** Services a method may use at creation; all optional for tests. */
export interface AuthContext {
  /** The webhook id the method protects (for log context and nonce namespacing). */
  readonly webhookId: string;
  readonly logger: Logger;
  /** Clock in milliseconds; injectable for tests. */
  readonly now: () => number;
  /** The webhook's top-level `trusted_proxies` (exact addresses or CIDR), already validated. */
  readonly trustedProxies: readonly string[];
}

export interface AuthMethod<Config = unknown> {
  /** The config key in a webhook entry (`hmac`, `basic_auth`, ...). */
  readonly type: string;
  /** Schema of the config value; rejects configurations that would disable the check (fail closed). */
  readonly schema: z.ZodType<Config>;
  /**
   * Request headers (lower-case) this method takes its credential from. Two methods on one webhook
   * that both take `authorization` can never both pass, so the loader refuses that combination.
   */
  readonly credentialHeaders?: (config: Config) => readonly string[];
  /** Names of config fields that hold secrets (redacted from logs and admin responses). */
  readonly secretFields: readonly string[];
  create(config: Config, context: AuthContext): AuthVerifier | Promise<AuthVerifier>;
}

/** Helper for methods: a typed failure value. */
export function authFailure(code: ErrorCode, detail: string, challenge?: string): AuthFailure {
  return challenge === undefined ? { ok: false, code, detail } : { ok: false, code, detail, challenge };
}

export const AUTH_OK: AuthSuccess = Object.freeze({ ok: true });

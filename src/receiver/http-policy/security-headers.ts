/**
 * Security headers sent on every HTTP response (reference spec §1.7).
 *
 * Always: `X-Content-Type-Options`, `X-Frame-Options`, `X-XSS-Protection`, `Referrer-Policy`,
 * `Permissions-Policy` and `Content-Security-Policy`. `Strict-Transport-Security` only when the request
 * came over HTTPS (see {@link isHttpsRequest}) or `forceHttps` is set.
 */
import { WebhookConnectError } from '../../shared/errors.js';

/** Configuration of the security headers (the `FORCE_HTTPS`, `HSTS_*` and `CSP_POLICY` settings). */
export interface SecurityHeadersConfig {
  /** Send HSTS even on plain-HTTP requests (`FORCE_HTTPS`). Default false. */
  readonly forceHttps?: boolean;
  /**
   * HSTS `max-age` in seconds (`HSTS_MAX_AGE`). Default 31536000 (one year). Clamped to 0..63072000;
   * a negative or non-finite value means the default; fractions are truncated.
   */
  readonly hstsMaxAge?: number;
  /** Append `; includeSubDomains` (`HSTS_INCLUDE_SUBDOMAINS`). Default true. */
  readonly hstsIncludeSubdomains?: boolean;
  /** Append `; preload` (`HSTS_PRELOAD`). Default false. */
  readonly hstsPreload?: boolean;
  /**
   * `Content-Security-Policy` for every response (`CSP_POLICY`). Default: {@link DOCS_CSP} on the API docs
   * paths and {@link DEFAULT_CSP} elsewhere. Empty or blank means unset. Must not contain CR, LF or NUL.
   */
  readonly cspPolicy?: string;
}

/** Per-request inputs of {@link securityHeaders}. */
export interface SecurityHeadersRequest {
  /** The request came over TLS or, via a proxy, with `X-Forwarded-Proto: https`. */
  readonly isHttps: boolean;
  /**
   * Request path (a query string is ignored), used to pick the docs CSP for `/docs`, `/redoc` and
   * `/openapi.json`. Default: not a docs path.
   */
  readonly path?: string;
}

export const DEFAULT_HSTS_MAX_AGE = 31_536_000;
export const MAX_HSTS_MAX_AGE = 63_072_000;

/** The restrictive default CSP for API responses. */
export const DEFAULT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/** The default CSP of the API docs pages, which load their UI from cdn.jsdelivr.net. */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; " +
  "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://cdn.jsdelivr.net; " +
  "font-src 'self' https://cdn.jsdelivr.net; connect-src 'self'; worker-src 'self' blob:; " +
  "frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const STATIC_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'x-xss-protection': '1; mode=block',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'permissions-policy':
    'geolocation=(), microphone=(), camera=(), payment=(), usb=(), magnetometer=(), gyroscope=(), accelerometer=()',
} as const;

/** The HSTS `max-age` actually sent for a configured value (rules on {@link SecurityHeadersConfig.hstsMaxAge}). */
export function clampHstsMaxAge(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value) || value < 0) return DEFAULT_HSTS_MAX_AGE;
  return Math.min(MAX_HSTS_MAX_AGE, Math.trunc(value));
}

/** Why a `CSP_POLICY` value cannot be sent as a header, or undefined when it can. */
export function cspPolicyProblem(value: string): string | undefined {
  return /[\r\n\0]/.test(value) ? 'CSP_POLICY must not contain CR, LF or NUL' : undefined;
}

/** True when `X-Forwarded-Proto` (first hop of a list) or the socket says the request is HTTPS. */
export function isHttpsRequest(encrypted: boolean, forwardedProto: string | undefined): boolean {
  if (encrypted) return true;
  if (forwardedProto === undefined) return false;
  const comma = forwardedProto.indexOf(',');
  return (comma === -1 ? forwardedProto : forwardedProto.slice(0, comma)).trim().toLowerCase() === 'https';
}

function isDocsPath(path: string | undefined): boolean {
  if (path === undefined) return false;
  const q = path.indexOf('?');
  const p = q === -1 ? path : path.slice(0, q);
  return (
    p === '/openapi.json' ||
    p === '/docs' ||
    p.startsWith('/docs/') ||
    p === '/redoc' ||
    p.startsWith('/redoc/')
  );
}

/** A precompiled header chooser: returns one of four frozen header maps, allocation-free. */
export type SecurityHeadersFn = (request: SecurityHeadersRequest) => Readonly<Record<string, string>>;

/**
 * Validates the configuration once and precomputes the header maps.
 * @throws WebhookConnectError `WC_CONFIG_INVALID` when `cspPolicy` contains CR, LF or NUL.
 */
export function compileSecurityHeaders(config: SecurityHeadersConfig = {}): SecurityHeadersFn {
  const custom =
    config.cspPolicy !== undefined && config.cspPolicy.trim() !== '' ? config.cspPolicy.trim() : undefined;
  if (custom !== undefined) {
    const problem = cspPolicyProblem(custom);
    if (problem !== undefined) throw new WebhookConnectError('WC_CONFIG_INVALID', { detail: problem });
  }
  let hsts = `max-age=${clampHstsMaxAge(config.hstsMaxAge)}`;
  if (config.hstsIncludeSubdomains ?? true) hsts += '; includeSubDomains';
  if (config.hstsPreload ?? false) hsts += '; preload';
  const build = (csp: string, withHsts: boolean): Readonly<Record<string, string>> =>
    Object.freeze({
      ...STATIC_HEADERS,
      'content-security-policy': csp,
      ...(withHsts ? { 'strict-transport-security': hsts } : {}),
    });
  const forceHttps = config.forceHttps ?? false;
  const api = [build(custom ?? DEFAULT_CSP, false), build(custom ?? DEFAULT_CSP, true)] as const;
  const docs = [build(custom ?? DOCS_CSP, false), build(custom ?? DOCS_CSP, true)] as const;
  return (request) => {
    const variants = isDocsPath(request.path) ? docs : api;
    return request.isHttps || forceHttps ? variants[1] : variants[0];
  };
}

let memoConfig: SecurityHeadersConfig | undefined;
let memoFn: SecurityHeadersFn | undefined;

function sameConfig(a: SecurityHeadersConfig, b: SecurityHeadersConfig): boolean {
  return (
    a.forceHttps === b.forceHttps &&
    a.hstsMaxAge === b.hstsMaxAge &&
    a.hstsIncludeSubdomains === b.hstsIncludeSubdomains &&
    a.hstsPreload === b.hstsPreload &&
    a.cspPolicy === b.cspPolicy
  );
}

/**
 * The security headers for one response. Convenience form of {@link compileSecurityHeaders} taking the
 * configuration and the request together; the compiled maps of the last configuration seen are reused,
 * so repeated calls with the same settings allocate nothing. Returns a frozen map: copy before editing.
 * @throws WebhookConnectError `WC_CONFIG_INVALID` when `cspPolicy` contains CR, LF or NUL (validate it at
 *   startup with {@link cspPolicyProblem}).
 */
export function securityHeaders(
  options: SecurityHeadersConfig & SecurityHeadersRequest,
): Readonly<Record<string, string>> {
  if (memoFn === undefined || memoConfig === undefined || !sameConfig(memoConfig, options)) {
    const config: SecurityHeadersConfig = {
      ...(options.forceHttps === undefined ? {} : { forceHttps: options.forceHttps }),
      ...(options.hstsMaxAge === undefined ? {} : { hstsMaxAge: options.hstsMaxAge }),
      ...(options.hstsIncludeSubdomains === undefined
        ? {}
        : { hstsIncludeSubdomains: options.hstsIncludeSubdomains }),
      ...(options.hstsPreload === undefined ? {} : { hstsPreload: options.hstsPreload }),
      ...(options.cspPolicy === undefined ? {} : { cspPolicy: options.cspPolicy }),
    };
    memoFn = compileSecurityHeaders(config);
    memoConfig = config;
  }
  return memoFn(options);
}

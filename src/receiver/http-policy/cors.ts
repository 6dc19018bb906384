/**
 * CORS (reference spec §1.7). Origins come from `CORS_ALLOWED_ORIGINS`; credentials are allowed, so every
 * origin must be explicit: `*` and `null` are refused, as is anything that is not a bare
 * `http(s)://host[:port]`. Allowed methods `POST, GET, OPTIONS`; the §1.7 request headers; no exposed
 * headers; preflight `Access-Control-Max-Age: 600`.
 */

/** One configured origin that was refused, and why (for a startup warning). */
export interface CorsRejection {
  readonly origin: string;
  readonly reason: string;
}

/** Result of {@link parseCorsOrigins}. */
export interface CorsOrigins {
  /** Normalised origins (`scheme://host[:port]`, lower-case host, default port dropped), in config order. */
  readonly accepted: ReadonlySet<string>;
  readonly rejected: readonly CorsRejection[];
}

/** `Access-Control-Allow-Methods`. */
export const CORS_ALLOWED_METHODS = 'POST, GET, OPTIONS';

/** `Access-Control-Allow-Headers` (§1.7). */
export const CORS_ALLOWED_HEADERS = [
  'Content-Type',
  'Authorization',
  'X-Requested-With',
  'X-HMAC-Signature',
  'X-HMAC-Signature-256',
  'X-Hub-Signature',
  'X-Hub-Signature-256',
  'X-API-Key',
  'X-Auth-Token',
  'X-Recaptcha-Token',
  'X-Forwarded-For',
  'X-Real-IP',
].join(', ');

/** `Access-Control-Max-Age` of preflight responses, in seconds. */
export const CORS_MAX_AGE_SECONDS = 600;

function originProblem(origin: string): string | undefined | { normalised: string } {
  if (origin === '*') return 'wildcard "*" is not allowed (credentials are enabled; list origins explicitly)';
  if (origin.toLowerCase() === 'null') return '"null" origin is not allowed';
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(origin)) return 'contains whitespace or control characters';
  const scheme = /^(https?):\/\//i.exec(origin);
  if (scheme === null) return 'must start with http:// or https://';
  const rest = origin.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  if (authority.includes('@')) return 'must not contain userinfo';
  if (authority === '' || authority.startsWith(':')) return 'empty host';
  if (tail.includes('?')) return 'must not contain a query';
  if (tail.includes('#')) return 'must not contain a fragment';
  if (tail !== '' && tail !== '/') return 'must not contain a path';
  let url: URL;
  try {
    url = new URL(`${scheme[1]}://${authority}`);
  } catch {
    return 'not a valid origin';
  }
  if (url.hostname === '') return 'empty host';
  return { normalised: url.origin };
}

/**
 * Validates configured origins (a comma-separated string or a list; blank entries are skipped). A lone
 * trailing `/` is tolerated and dropped. Refused: `*`, `null`, schemes other than http/https, an empty
 * host, userinfo, a path, query or fragment, whitespace or control characters, unparsable hosts.
 */
export function parseCorsOrigins(list: string | readonly string[]): CorsOrigins {
  const entries = typeof list === 'string' ? list.split(',') : list;
  const accepted = new Set<string>();
  const rejected: CorsRejection[] = [];
  for (const entry of entries) {
    const origin = entry.trim();
    if (origin === '') continue;
    const verdict = originProblem(origin);
    if (typeof verdict === 'string') rejected.push({ origin, reason: verdict });
    else if (verdict !== undefined) accepted.add(verdict.normalised);
  }
  return { accepted, rejected };
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const VARY_ONLY: Readonly<Record<string, string>> = Object.freeze({ vary: 'Origin' });

interface OriginHeaders {
  readonly simple: Readonly<Record<string, string>>;
  readonly preflight: Readonly<Record<string, string>>;
}

/** Precomputed header maps per accepted origin, per accepted-set: no allocation per request. */
const compiled = new WeakMap<object, Map<string, OriginHeaders>>();

function headersFor(accepted: ReadonlySet<string> | readonly string[]): Map<string, OriginHeaders> {
  let map = compiled.get(accepted);
  if (map === undefined) {
    map = new Map();
    for (const origin of accepted) {
      const simple = Object.freeze({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
      });
      const preflight = Object.freeze({
        ...simple,
        'access-control-allow-methods': CORS_ALLOWED_METHODS,
        'access-control-allow-headers': CORS_ALLOWED_HEADERS,
        'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
      });
      map.set(origin, { simple, preflight });
    }
    compiled.set(accepted, map);
  }
  return map;
}

/**
 * CORS response headers for a request with `Origin: requestOrigin` (undefined when absent).
 *
 * - CORS disabled (no accepted origin): no headers.
 * - Origin accepted: `Access-Control-Allow-Origin: <origin>`, `Access-Control-Allow-Credentials: true`,
 *   `Vary: Origin`; for `OPTIONS` (a preflight) also the allowed methods and headers and the max-age.
 * - Otherwise only `Vary: Origin` (the response differs by origin; a browser blocks the response).
 *
 * The returned map is frozen and shared; `accepted` must not be mutated after the first call (it is
 * compiled once). Merge `Vary` with any `Vary` the route sets rather than overwriting it.
 */
export function corsHeaders(
  requestOrigin: string | undefined,
  method: string,
  accepted: ReadonlySet<string> | readonly string[],
): Readonly<Record<string, string>> {
  const size = Array.isArray(accepted) ? accepted.length : (accepted as ReadonlySet<string>).size;
  if (size === 0) return NO_HEADERS;
  if (requestOrigin === undefined) return VARY_ONLY;
  const match = headersFor(accepted).get(requestOrigin);
  if (match === undefined) return VARY_ONLY;
  return method === 'OPTIONS' ? match.preflight : match.simple;
}

/**
 * `oauth1`: OAuth 1.0a request signatures (RFC 5849 §3). The signature base string is
 * `METHOD & enc(base URI) & enc(normalised parameters)` where the base URI is
 * `scheme://host[:port]/path` (lower-case scheme and host, default port omitted) and the parameters are
 * every query parameter, every `oauth_*` header parameter except `oauth_signature` and `realm`, and the
 * form-encoded body parameters — sorted by encoded name, then value. HMAC-SHA1, HMAC-SHA256 and (over
 * HTTPS only) PLAINTEXT. `oauth_timestamp` must be within `timestamp_window`; `oauth_nonce` is remembered
 * per webhook (bounded; see `NonceStore`) and a reuse is a replay.
 */
import { createHmac } from 'node:crypto';
import { digestEqualsAny, safeEqual } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { decodeBase64 } from '../signing.js';
import { AUTH_OK, authFailure, type AuthMethod, type AuthRequest } from '../types.js';
import { oauth1Schema, type OAuth1Config } from './schema.js';

/** RFC 3986 percent-encoding as RFC 5849 §3.6 requires. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function percentDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** Parses `OAuth k="v", ...` (values percent-decoded); undefined when malformed. */
export function parseOAuthHeader(header: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  const body = header.slice(6);
  const pattern = /\s*([A-Za-z0-9_.~-]+)\s*=\s*"([^"]*)"\s*(?:,|$)/y;
  let index = 0;
  while (index < body.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(body);
    if (match === null) return undefined;
    const name = percentDecode(match[1] ?? '');
    const value = percentDecode(match[2] ?? '');
    if (name === undefined || value === undefined || params.has(name)) return undefined;
    params.set(name, value);
    index = pattern.lastIndex;
  }
  return params;
}

function baseUri(request: AuthRequest, baseUrl: string | undefined): string {
  // URL lower-cases scheme and host and drops a default port; the path keeps the client's encoding.
  const origin = new URL(baseUrl ?? `${request.protocol}://${request.host}`);
  const port = origin.port === '' ? '' : `:${origin.port}`;
  const prefix = baseUrl === undefined ? '' : origin.pathname.replace(/\/$/, '');
  return `${origin.protocol}//${origin.hostname}${port}${prefix}${request.path}`;
}

/** Remembers nonces for `windowMs`; bounded. See the module comment. */
class NonceStore {
  readonly #seen = new Map<string, number>(); // key → oauth_timestamp (s)
  #watermark = -1; // timestamps at or below this are refused (an entry that old may have been evicted)

  constructor(
    private readonly max: number,
    private readonly windowSeconds: number,
  ) {}

  /** 'ok' records the nonce; 'replayed' when seen; 'stale' when too old to be judged. */
  check(nonce: string, timestamp: number, nowSeconds: number): 'ok' | 'replayed' | 'stale' {
    const key = `${timestamp}:${nonce}`;
    if (this.#seen.has(key)) return 'replayed';
    if (timestamp <= this.#watermark) return 'stale';
    if (this.#seen.size >= this.max) {
      for (const [k, ts] of this.#seen) if (ts < nowSeconds - this.windowSeconds) this.#seen.delete(k);
    }
    while (this.#seen.size >= this.max) {
      const oldest = this.#seen.entries().next();
      if (oldest.done === true) break;
      this.#seen.delete(oldest.value[0]);
      this.#watermark = Math.max(this.#watermark, oldest.value[1]);
      if (timestamp <= this.#watermark) return 'stale';
    }
    this.#seen.set(key, timestamp);
    return 'ok';
  }
}

export const oauth1Method: AuthMethod<OAuth1Config> = {
  type: 'oauth1',
  schema: oauth1Schema,
  credentialHeaders: () => ['authorization'],
  secretFields: ['consumer_secret', 'token_secret'],
  create(config, context) {
    const keys = toList(config.consumer_secret).map(
      (secret) => `${percentEncode(secret)}&${percentEncode(config.token_secret)}`,
    );
    const hash = config.signature_method === 'HMAC-SHA256' ? 'sha256' : 'sha1';
    const nonces = new NonceStore(config.max_nonces, config.timestamp_window);
    const challenge = 'OAuth realm="webhook"';
    const fail = (code: Parameters<typeof authFailure>[0], detail: string) =>
      authFailure(code, detail, challenge);

    return (request) => {
      const header = request.headers.authorization;
      if (header === undefined || header.trim() === '')
        return fail('WC_AUTH_MISSING', 'Missing Authorization header');
      if (!/^OAuth\s/i.test(header)) return fail('WC_AUTH_MALFORMED', 'OAuth 1.0 authorization required');
      const oauth = parseOAuthHeader(header);
      if (oauth === undefined) return fail('WC_AUTH_MALFORMED', 'Invalid OAuth 1.0 authorization header');
      const required = ['oauth_consumer_key', 'oauth_signature_method', 'oauth_signature'];
      if (config.verify_timestamp) required.push('oauth_timestamp');
      if (config.verify_nonce) required.push('oauth_nonce');
      for (const name of required) {
        if ((oauth.get(name) ?? '').trim() === '')
          return fail('WC_AUTH_MALFORMED', `Missing OAuth 1.0 parameter: ${name}`);
      }
      const version = oauth.get('oauth_version');
      if (version !== undefined && version !== '1.0')
        return fail('WC_AUTH_MALFORMED', 'Unsupported OAuth version');
      if (!safeEqual(config.consumer_key, oauth.get('oauth_consumer_key') ?? '')) {
        return fail('WC_AUTH_MISMATCH', 'Invalid OAuth 1.0 consumer key');
      }
      if ((oauth.get('oauth_signature_method') ?? '').toUpperCase() !== config.signature_method) {
        return fail('WC_AUTH_MISMATCH', 'Invalid OAuth 1.0 signature method');
      }
      const timestampText = oauth.get('oauth_timestamp');
      if (timestampText !== undefined && !/^\d{1,12}$/.test(timestampText)) {
        return fail('WC_AUTH_MALFORMED', 'Invalid OAuth 1.0 timestamp');
      }
      const timestamp = timestampText === undefined ? undefined : Number(timestampText);
      const nowSeconds = context.now() / 1000;

      const signature = oauth.get('oauth_signature') ?? '';
      if (config.signature_method === 'PLAINTEXT') {
        if (request.protocol !== 'https')
          return fail('WC_AUTH_MALFORMED', 'OAuth 1.0 PLAINTEXT requires HTTPS');
        let match = false;
        for (const key of keys) if (safeEqual(key, signature)) match = true;
        if (!match) return fail('WC_AUTH_MISMATCH', 'Invalid OAuth 1.0 signature');
      } else {
        const received = decodeBase64(signature);
        if (received === undefined) return fail('WC_AUTH_MALFORMED', 'Invalid OAuth 1.0 signature encoding');
        const pairs: [string, string][] = [];
        const query = request.url.indexOf('?');
        if (query !== -1)
          for (const pair of new URLSearchParams(request.url.slice(query + 1))) pairs.push(pair);
        for (const [name, value] of oauth)
          if (name !== 'oauth_signature' && name !== 'realm') pairs.push([name, value]);
        const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
        if (contentType === 'application/x-www-form-urlencoded') {
          for (const pair of new URLSearchParams(request.rawBody.toString('utf8'))) pairs.push(pair);
        }
        const normalised = pairs
          .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
          .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
          .map(([name, value]) => `${name}=${value}`)
          .join('&');
        let uri: string;
        try {
          uri = baseUri(request, config.base_url);
        } catch {
          return fail('WC_AUTH_MISMATCH', 'Invalid OAuth 1.0 signature'); // unusable Host header
        }
        const base = `${request.method.toUpperCase()}&${percentEncode(uri)}&${percentEncode(normalised)}`;
        const expected = keys.map((key) => createHmac(hash, key).update(base).digest());
        if (!digestEqualsAny(expected, received))
          return fail('WC_AUTH_MISMATCH', 'Invalid OAuth 1.0 signature');
      }

      if (config.verify_timestamp && timestamp !== undefined) {
        const diff = Math.round(Math.abs(nowSeconds - timestamp));
        if (diff > config.timestamp_window) {
          return fail(
            'WC_AUTH_EXPIRED',
            `OAuth 1.0 timestamp out of window (diff: ${diff}s, max: ${config.timestamp_window}s)`,
          );
        }
      }
      if (config.verify_nonce && timestamp !== undefined) {
        const outcome = nonces.check(oauth.get('oauth_nonce') ?? '', timestamp, nowSeconds);
        if (outcome === 'replayed') {
          return fail('WC_AUTH_REPLAYED', 'OAuth 1.0 nonce has already been used (replay attack detected)');
        }
        if (outcome === 'stale')
          return fail('WC_AUTH_EXPIRED', 'OAuth 1.0 timestamp too old, retry with a new one');
      }
      return AUTH_OK;
    };
  },
};

/**
 * `digest_auth`: RFC 7616 HTTP Digest authentication.
 *
 * Nonces are issued by this verifier in the `WWW-Authenticate` challenge of every 401. A nonce is
 * stateless until used: it is `issued-at ‖ random ‖ MAC(issued-at ‖ random)` under a per-verifier key, so
 * issuing challenges costs no memory. Once a request with a nonce authenticates, the nonce is tracked with
 * its highest nonce-count (`nc`); a later request must use a higher `nc` (replay protection). The table is
 * bounded (`max_nonces`): when full, expired nonces are dropped, then the oldest tracked one, and every
 * nonce issued at or before an evicted one is treated as stale from then on, so eviction can never
 * re-open a replay.
 *
 * Per request: parse the header → check realm, algorithm, qop and that `uri` is this request's target →
 * compute the expected response (constant-time compare; user name too) → then the nonce: forged or
 * expired → 401 `stale=true` (the client retries with the fresh nonce without asking the user) → `nc`
 * not above the last seen → `WC_AUTH_REPLAYED` → success.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { ErrorCode } from '../../shared/errors.js';
import { digestEqual, safeEqual } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { AUTH_OK, authFailure, type AuthMethod, type AuthRequest } from '../types.js';
import { digestAuthSchema, type DigestAlgorithm, type DigestAuthConfig } from './schema.js';

/** Parses `Digest a=b, c="d, e"` parameters (names lower-cased; quoted strings unescaped). */
export function parseDigestParams(text: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === ',')) i++;
    if (i >= n) break;
    const nameStart = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(text[i] ?? '')) i++;
    const name = text.slice(nameStart, i).toLowerCase();
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (name === '' || text[i] !== '=') return undefined;
    i++;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let value = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const ch = text[i];
        if (ch === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else if (ch === '"') {
          closed = true;
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      if (!closed) return undefined;
    } else {
      const start = i;
      while (i < n && text[i] !== ',' && text[i] !== ' ' && text[i] !== '\t') i++;
      value = text.slice(start, i);
    }
    if (params.has(name)) return undefined;
    params.set(name, value);
  }
  return params;
}

const hashName = (algorithm: DigestAlgorithm) => (algorithm.startsWith('SHA-256') ? 'sha256' : 'md5');
const H = (algorithm: DigestAlgorithm, ...parts: (string | Buffer)[]) => {
  const hash = createHash(hashName(algorithm));
  parts.forEach((part, index) => {
    if (index > 0) hash.update(':');
    hash.update(part);
  });
  return hash.digest('hex');
};

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;
const NONCE_BYTES = 32;

interface Tracked {
  readonly issuedAt: number;
  lastNc: number;
}

export const digestAuthMethod: AuthMethod<DigestAuthConfig> = {
  type: 'digest_auth',
  schema: digestAuthSchema,
  credentialHeaders: () => ['authorization'],
  secretFields: ['password'],
  create(config, context) {
    const key = randomBytes(32);
    const ttlMs = config.nonce_ttl_seconds * 1000;
    const passwords = toList(config.password);
    const tracked = new Map<string, Tracked>();
    let watermark = -1; // nonces issued at or before this instant are stale unless tracked

    const mac = (data: Buffer) => createHmac('sha256', key).update(data).digest().subarray(0, 16);
    function issueNonce(): string {
      const head = Buffer.alloc(16);
      head.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(context.now()))), 0);
      randomBytes(8).copy(head, 8);
      return Buffer.concat([head, mac(head)]).toString('base64url');
    }
    /** The issue time of a genuine nonce; undefined when forged or malformed. */
    function nonceIssuedAt(nonce: string): number | undefined {
      const raw = Buffer.from(nonce, 'base64url');
      if (raw.length !== NONCE_BYTES || raw.toString('base64url') !== nonce) return undefined;
      const head = raw.subarray(0, 16);
      if (!digestEqual(mac(head), raw.subarray(16))) return undefined;
      return Number(head.readBigUInt64BE(0));
    }
    function challenge(stale: boolean): string {
      const nonce = issueNonce();
      const qop = quote(config.qops.join(', '));
      return config.algorithms
        .map(
          (algorithm) =>
            `Digest realm=${quote(config.realm)}, qop=${qop}, algorithm=${algorithm}, nonce="${nonce}"` +
            (stale ? ', stale=true' : '') +
            ', charset=UTF-8, userhash=false',
        )
        .join(', ');
    }
    const fail = (code: ErrorCode, detail: string, stale = false) =>
      authFailure(code, detail, challenge(stale));

    function track(nonce: string, issuedAt: number, nc: number): 'ok' | 'stale' | 'replayed' {
      const now = context.now();
      const entry = tracked.get(nonce);
      if (entry !== undefined) {
        if (nc <= entry.lastNc) return 'replayed';
        entry.lastNc = nc;
        return 'ok';
      }
      if (issuedAt <= watermark) return 'stale';
      if (tracked.size >= config.max_nonces) {
        for (const [key, value] of tracked) if (value.issuedAt + ttlMs <= now) tracked.delete(key);
      }
      while (tracked.size >= config.max_nonces) {
        const oldest = tracked.entries().next();
        if (oldest.done === true) break;
        tracked.delete(oldest.value[0]);
        watermark = Math.max(watermark, oldest.value[1].issuedAt);
        if (issuedAt <= watermark) return 'stale';
      }
      tracked.set(nonce, { issuedAt, lastNc: nc });
      return 'ok';
    }

    function uriMatches(request: AuthRequest, uri: string): boolean {
      return uri === request.url || uri === `${request.protocol}://${request.host}${request.url}`;
    }

    return (request) => {
      const header = request.headers.authorization;
      if (header === undefined || header.trim() === '')
        return fail('WC_AUTH_MISSING', 'Missing Authorization header');
      if (!header.startsWith('Digest ')) return fail('WC_AUTH_MALFORMED', 'Digest authentication required');
      const params = parseDigestParams(header.slice(7));
      if (params === undefined) return fail('WC_AUTH_MALFORMED', 'Invalid Digest authorization header');
      for (const name of ['username', 'realm', 'nonce', 'uri', 'response', 'qop', 'nc', 'cnonce']) {
        if (!params.has(name)) return fail('WC_AUTH_MALFORMED', `Missing required Digest parameter: ${name}`);
      }
      const get = (name: string) => params.get(name) ?? '';
      const algorithm = config.algorithms.find(
        (name) => name.toLowerCase() === (params.get('algorithm') ?? 'MD5').toLowerCase(),
      );
      if (algorithm === undefined) return fail('WC_AUTH_MALFORMED', 'Unsupported digest auth algorithm');
      const qop = get('qop');
      if (!(config.qops as string[]).includes(qop))
        return fail('WC_AUTH_MALFORMED', 'Unsupported digest auth qop');
      if (!/^[0-9a-fA-F]{8}$/.test(get('nc'))) return fail('WC_AUTH_MALFORMED', 'Invalid digest nonce count');
      if (get('cnonce') === '') return fail('WC_AUTH_MALFORMED', 'Invalid digest cnonce');
      if (params.get('userhash') === 'true')
        return fail('WC_AUTH_MALFORMED', 'Digest userhash is not supported');
      if (get('realm') !== config.realm) return fail('WC_AUTH_MISMATCH', 'Invalid digest auth realm');
      if (!uriMatches(request, get('uri')))
        return fail('WC_AUTH_MISMATCH', 'Digest uri does not match the request');

      const nonce = get('nonce');
      const ha2 =
        qop === 'auth-int'
          ? H(algorithm, request.method, get('uri'), H(algorithm, request.rawBody))
          : H(algorithm, request.method, get('uri'));
      const received = get('response').toLowerCase();
      const userOk = safeEqual(config.username, get('username'));
      let responseOk = false;
      for (const password of passwords) {
        let ha1 = H(algorithm, config.username, config.realm, password);
        if (algorithm.endsWith('-sess')) ha1 = H(algorithm, ha1, nonce, get('cnonce'));
        const expected = H(algorithm, ha1, nonce, get('nc'), get('cnonce'), qop, ha2);
        if (safeEqual(expected, received)) responseOk = true;
      }
      if (!userOk || !responseOk) return fail('WC_AUTH_MISMATCH', 'Invalid digest auth response');

      // The credentials are right; now the nonce decides between success, stale and replay.
      const issuedAt = nonceIssuedAt(nonce);
      const now = context.now();
      if (issuedAt === undefined || issuedAt + ttlMs <= now || issuedAt > now + 5_000) {
        return fail('WC_AUTH_EXPIRED', 'Digest nonce expired or unknown', true);
      }
      const outcome = track(nonce, issuedAt, Number.parseInt(get('nc'), 16));
      if (outcome === 'stale') return fail('WC_AUTH_EXPIRED', 'Digest nonce expired or unknown', true);
      if (outcome === 'replayed') return fail('WC_AUTH_REPLAYED', 'Digest nonce count already used', true);
      return AUTH_OK;
    };
  },
};

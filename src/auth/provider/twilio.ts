/**
 * Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1(auth token, url + sorted form parameters)>`. The url is
 * the full URL Twilio requested (scheme, host, path and query); form parameters are appended as
 * `name + value` sorted by name (repeated values de-duplicated and sorted, as Twilio does). A JSON body is
 * covered by the `bodySHA256` query parameter (hex SHA-256 of the body) instead; a non-form body without
 * it is refused, since the signature would not cover it. `X-Twilio-Webhooks-Signature-Settings:
 * algorithm=HMAC_SHA256` selects HMAC-SHA256. Like Twilio's helper, the URL is tried with and without the
 * port (proxies and load balancers differ on whether the port is kept).
 */
import { createHash } from 'node:crypto';
import { digestEqualsAny, safeEqual } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { decodeBase64, hmac } from '../signing.js';
import { AUTH_OK, authFailure, type AuthRequest, type AuthVerifier } from '../types.js';
import type { TwilioConfig } from './schema.js';

export const twilioHeaders = ['x-twilio-signature'];

function urlCandidates(request: AuthRequest, baseUrl: string | undefined): string[] {
  const base = baseUrl ?? `${request.protocol}://${request.host}`;
  const url = new URL(base);
  const scheme = url.protocol;
  const authority = base.slice(scheme.length + 2).replace(/\/.*$/, '');
  const path =
    baseUrl === undefined ? '' : base.slice(scheme.length + 2 + authority.length).replace(/\/$/, '');
  const withoutPort = authority.replace(/:\d+$/, '');
  const defaultPort = scheme === 'https:' ? '443' : '80';
  const candidates = new Set([
    authority,
    withoutPort,
    withoutPort === authority ? `${authority}:${defaultPort}` : authority,
  ]);
  return [...candidates].map((host) => `${scheme}//${host}${path}${request.url}`);
}

function formParams(body: Buffer): string {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    const values = grouped.get(name) ?? [];
    values.push(value);
    grouped.set(name, values);
  }
  let data = '';
  for (const name of [...grouped.keys()].sort()) {
    for (const value of [...new Set(grouped.get(name))].sort()) data += name + value;
  }
  return data;
}

export function createTwilio(config: TwilioConfig): AuthVerifier {
  const tokens = toList(config.secret).map((token) => Buffer.from(token, 'utf8'));
  return (request) => {
    const value = request.headers['x-twilio-signature'];
    if (value === undefined || value === '')
      return authFailure('WC_AUTH_MISSING', 'Missing X-Twilio-Signature header');
    const signature = decodeBase64(value);
    if (signature === undefined)
      return authFailure('WC_AUTH_MALFORMED', 'Invalid X-Twilio-Signature header (expected base64)');
    const settings = request.headers['x-twilio-webhooks-signature-settings'] ?? '';
    const algorithm = /(?:^|,)\s*algorithm=HMAC_SHA256\s*(?:,|$)/.test(settings) ? 'sha256' : 'sha1';

    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    let params = '';
    if (contentType === 'application/x-www-form-urlencoded') {
      params = formParams(request.rawBody);
    } else {
      const bodyHash = request.query.bodySHA256;
      if (typeof bodyHash !== 'string') {
        if (request.rawBody.length > 0) {
          return authFailure('WC_AUTH_MALFORMED', 'A non-form Twilio request must carry bodySHA256');
        }
      } else if (
        !safeEqual(createHash('sha256').update(request.rawBody).digest('hex'), bodyHash.toLowerCase())
      ) {
        return authFailure('WC_AUTH_MISMATCH', 'Invalid Twilio signature');
      }
    }
    let urls: string[];
    try {
      urls = urlCandidates(request, config.base_url);
    } catch {
      return authFailure('WC_AUTH_MISMATCH', 'Invalid Twilio signature'); // unusable Host header
    }
    const expected = urls.flatMap((url) => tokens.map((token) => hmac(algorithm, token, [url, params])));
    return digestEqualsAny(expected, signature)
      ? AUTH_OK
      : authFailure('WC_AUTH_MISMATCH', 'Invalid Twilio signature');
  };
}

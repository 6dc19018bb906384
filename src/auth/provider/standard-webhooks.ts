/**
 * Standard Webhooks (and Svix, which uses the same scheme with `svix-` header names):
 * `webhook-signature: v1,<base64> [v1,<base64> ...]`, each the base64 HMAC-SHA256 under the base64-decoded
 * `whsec_` key of `"<webhook-id>.<webhook-timestamp>.<body>"`; the timestamp must be within
 * `tolerance_seconds`. Signatures of other versions (e.g. asymmetric `v1a`) are ignored.
 */
import { digestEqualsAny } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { checkTimestamp, decodeBase64, hmac } from '../signing.js';
import { AUTH_OK, authFailure, type AuthContext, type AuthRequest, type AuthVerifier } from '../types.js';
import type { StandardWebhooksConfig } from './schema.js';

export const standardWebhooksHeaders = ['webhook-signature', 'svix-signature'];

/** The `webhook-*` headers, or the `svix-*` ones when the former are absent. */
function read(request: AuthRequest, name: 'id' | 'timestamp' | 'signature'): string | undefined {
  return request.headers[`webhook-${name}`] ?? request.headers[`svix-${name}`];
}

export function createStandardWebhooks(config: StandardWebhooksConfig, context: AuthContext): AuthVerifier {
  const keys = toList(config.secret).map((secret) =>
    Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64'),
  );
  return (request) => {
    const id = read(request, 'id');
    const timestamp = read(request, 'timestamp');
    const header = read(request, 'signature');
    if (header === undefined || header === '')
      return authFailure('WC_AUTH_MISSING', 'Missing webhook-signature header');
    if (id === undefined || id === '') return authFailure('WC_AUTH_MISSING', 'Missing webhook-id header');
    if (timestamp === undefined || timestamp === '')
      return authFailure('WC_AUTH_MISSING', 'Missing webhook-timestamp header');
    const signatures: Buffer[] = [];
    for (const entry of header.split(' ')) {
      const comma = entry.indexOf(',');
      if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
      const decoded = decodeBase64(entry.slice(comma + 1));
      if (decoded !== undefined) signatures.push(decoded);
    }
    if (signatures.length === 0) {
      return authFailure('WC_AUTH_MALFORMED', 'Invalid webhook-signature header (expected v1,<base64>)');
    }
    const check = checkTimestamp(timestamp, context.now(), config.tolerance_seconds);
    if (!check.ok && check.reason === 'malformed')
      return authFailure('WC_AUTH_MALFORMED', 'Invalid webhook-timestamp header');
    const expected = keys.map((key) => hmac('sha256', key, [`${id}.${timestamp}.`, request.rawBody]));
    let match = false;
    for (const signature of signatures) if (digestEqualsAny(expected, signature)) match = true;
    if (!match) return authFailure('WC_AUTH_MISMATCH', 'Invalid webhook signature');
    if (!check.ok) {
      return authFailure(
        'WC_AUTH_EXPIRED',
        `webhook-timestamp outside the tolerance of ${config.tolerance_seconds}s`,
      );
    }
    return AUTH_OK;
  };
}

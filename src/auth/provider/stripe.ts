/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, where each `v1` is
 * hex(HMAC-SHA256(secret, "<t>.<body>")). Any `v1` matching any configured secret passes (Stripe sends
 * several during its own secret roll); `t` must be within `tolerance_seconds`.
 */
import { digestEqualsAny } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { checkTimestamp, decodeHex, hmac } from '../signing.js';
import { AUTH_OK, authFailure, type AuthContext, type AuthVerifier } from '../types.js';
import type { StripeConfig } from './schema.js';

export const stripeHeaders = ['stripe-signature'];

export function createStripe(config: StripeConfig, context: AuthContext): AuthVerifier {
  const secrets = toList(config.secret).map((secret) => Buffer.from(secret, 'utf8'));
  return (request) => {
    const value = request.headers['stripe-signature'];
    if (value === undefined || value === '')
      return authFailure('WC_AUTH_MISSING', 'Missing Stripe-Signature header');
    let timestamp: string | undefined;
    const signatures: Buffer[] = [];
    for (const item of value.split(',')) {
      const eq = item.indexOf('=');
      if (eq === -1) continue;
      const key = item.slice(0, eq).trim();
      const text = item.slice(eq + 1).trim();
      if (key === 't') timestamp = text;
      else if (key === 'v1') {
        const decoded = decodeHex(text);
        if (decoded !== undefined) signatures.push(decoded);
      }
    }
    if (timestamp === undefined || signatures.length === 0) {
      return authFailure('WC_AUTH_MALFORMED', 'Invalid Stripe-Signature header (expected t=...,v1=...)');
    }
    const check = checkTimestamp(timestamp, context.now(), config.tolerance_seconds);
    if (!check.ok && check.reason === 'malformed') {
      return authFailure('WC_AUTH_MALFORMED', 'Invalid Stripe-Signature timestamp');
    }
    const expected = secrets.map((secret) => hmac('sha256', secret, [timestamp, '.', request.rawBody]));
    let match = false;
    for (const signature of signatures) if (digestEqualsAny(expected, signature)) match = true;
    if (!match) return authFailure('WC_AUTH_MISMATCH', 'Invalid Stripe signature');
    if (!check.ok) {
      return authFailure(
        'WC_AUTH_EXPIRED',
        `Stripe signature timestamp outside the tolerance of ${config.tolerance_seconds}s`,
      );
    }
    return AUTH_OK;
  };
}

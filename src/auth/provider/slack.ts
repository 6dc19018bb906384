/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<timestamp>:<body>")>` with
 * `X-Slack-Request-Timestamp` within `tolerance_seconds`.
 */
import { digestEqualsAny } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { checkTimestamp, decodeHex, hmac } from '../signing.js';
import { AUTH_OK, authFailure, type AuthContext, type AuthVerifier } from '../types.js';
import type { SlackConfig } from './schema.js';

export const slackHeaders = ['x-slack-signature'];

export function createSlack(config: SlackConfig, context: AuthContext): AuthVerifier {
  const secrets = toList(config.secret).map((secret) => Buffer.from(secret, 'utf8'));
  return (request) => {
    const value = request.headers['x-slack-signature'];
    if (value === undefined || value === '')
      return authFailure('WC_AUTH_MISSING', 'Missing X-Slack-Signature header');
    const timestamp = request.headers['x-slack-request-timestamp'];
    if (timestamp === undefined || timestamp === '') {
      return authFailure('WC_AUTH_MISSING', 'Missing X-Slack-Request-Timestamp header');
    }
    const signature = value.startsWith('v0=') ? decodeHex(value.slice(3)) : undefined;
    if (signature === undefined)
      return authFailure('WC_AUTH_MALFORMED', 'Invalid X-Slack-Signature header (expected v0=<hex>)');
    const check = checkTimestamp(timestamp, context.now(), config.tolerance_seconds);
    if (!check.ok && check.reason === 'malformed') {
      return authFailure('WC_AUTH_MALFORMED', 'Invalid X-Slack-Request-Timestamp header');
    }
    const expected = secrets.map((secret) => hmac('sha256', secret, [`v0:${timestamp}:`, request.rawBody]));
    if (!digestEqualsAny(expected, signature))
      return authFailure('WC_AUTH_MISMATCH', 'Invalid Slack signature');
    if (!check.ok) {
      return authFailure(
        'WC_AUTH_EXPIRED',
        `Slack request timestamp outside the tolerance of ${config.tolerance_seconds}s`,
      );
    }
    return AUTH_OK;
  };
}

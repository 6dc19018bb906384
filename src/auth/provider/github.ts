/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`. */
import { digestEqualsAny } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { decodeHex, hmac } from '../signing.js';
import { AUTH_OK, authFailure, type AuthVerifier } from '../types.js';
import type { GithubConfig } from './schema.js';

export const githubHeaders = ['x-hub-signature-256'];

export function createGithub(config: GithubConfig): AuthVerifier {
  const secrets = toList(config.secret).map((secret) => Buffer.from(secret, 'utf8'));
  return (request) => {
    const value = request.headers['x-hub-signature-256'];
    if (value === undefined || value === '')
      return authFailure('WC_AUTH_MISSING', 'Missing X-Hub-Signature-256 header');
    const signature = value.startsWith('sha256=') ? decodeHex(value.slice(7)) : undefined;
    if (signature === undefined) {
      return authFailure('WC_AUTH_MALFORMED', 'Invalid X-Hub-Signature-256 header (expected sha256=<hex>)');
    }
    const expected = secrets.map((secret) => hmac('sha256', secret, [request.rawBody]));
    return digestEqualsAny(expected, signature)
      ? AUTH_OK
      : authFailure('WC_AUTH_MISMATCH', 'Invalid GitHub signature');
  };
}

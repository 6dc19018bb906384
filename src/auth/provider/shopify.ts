/** Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`. */
import { digestEqualsAny } from '../../shared/timing-safe.js';
import { toList } from '../fields.js';
import { decodeBase64, hmac } from '../signing.js';
import { AUTH_OK, authFailure, type AuthVerifier } from '../types.js';
import type { ShopifyConfig } from './schema.js';

export const shopifyHeaders = ['x-shopify-hmac-sha256'];

export function createShopify(config: ShopifyConfig): AuthVerifier {
  const secrets = toList(config.secret).map((secret) => Buffer.from(secret, 'utf8'));
  return (request) => {
    const value = request.headers['x-shopify-hmac-sha256'];
    if (value === undefined || value === '') {
      return authFailure('WC_AUTH_MISSING', 'Missing X-Shopify-Hmac-Sha256 header');
    }
    const signature = decodeBase64(value);
    if (signature === undefined)
      return authFailure('WC_AUTH_MALFORMED', 'Invalid X-Shopify-Hmac-Sha256 header (expected base64)');
    const expected = secrets.map((secret) => hmac('sha256', secret, [request.rawBody]));
    return digestEqualsAny(expected, signature)
      ? AUTH_OK
      : authFailure('WC_AUTH_MISMATCH', 'Invalid Shopify signature');
  };
}

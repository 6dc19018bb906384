import { z } from 'zod';
import { boolLike, intLike, requiredString } from '../../shared/config-fields.js';
import { httpUrl, seconds, secretList } from '../fields.js';

export const OAUTH1_METHODS = ['HMAC-SHA1', 'HMAC-SHA256', 'PLAINTEXT'] as const;

/** `oauth1`: OAuth 1.0a (RFC 5849) signed requests. `{}` is a config error. */
export const oauth1Schema = z
  .strictObject({
    /** Expected `oauth_consumer_key`. Required. */
    consumer_key: requiredString(),
    /** Consumer secret, or a list for rotation. Required. */
    consumer_secret: secretList(),
    /** Token secret (second half of the signing key). Default empty. */
    token_secret: z.string().default(''),
    /** `HMAC-SHA1` (default), `HMAC-SHA256` or `PLAINTEXT` (HTTPS only); case-insensitive. */
    signature_method: z
      .preprocess(
        (value) => (typeof value === 'string' ? value.trim().toUpperCase() : value),
        z.enum(OAUTH1_METHODS, {
          message: `must be one of ${OAUTH1_METHODS.join(', ')} (RSA-SHA1 is not supported)`,
        }),
      )
      .default('HMAC-SHA1'),
    /** Require `oauth_timestamp` within `timestamp_window`. Default true. */
    verify_timestamp: boolLike().default(true),
    /** Accepted clock difference in seconds. Default 300. */
    timestamp_window: seconds(1, 86_400).default(300),
    /** Refuse a nonce seen before (per webhook). Default true; needs `verify_timestamp`. */
    verify_nonce: boolLike().default(true),
    /** Most nonces remembered. Default 100000. */
    max_nonces: intLike().pipe(z.int().min(10).max(10_000_000)).default(100_000),
    /**
     * The public base URL the client signs (`scheme://host[:port][/prefix]`). Default: the request's
     * protocol and host after trusted-proxy resolution.
     */
    base_url: httpUrl().optional(),
  })
  .superRefine((config, ctx) => {
    if (config.verify_nonce && !config.verify_timestamp) {
      ctx.addIssue({
        code: 'custom',
        path: ['verify_nonce'],
        message: 'needs verify_timestamp (without a timestamp window the nonce store cannot be bounded)',
      });
    }
  });

export type OAuth1Config = z.infer<typeof oauth1Schema>;

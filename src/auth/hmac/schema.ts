import { z } from 'zod';
import { headerName, seconds, secretList } from '../fields.js';

/**
 * `hmac`: a signature over the raw body (and optionally a timestamp) in a request header. `{}` or a
 * missing `secret` is a config error.
 */
export const hmacSchema = z
  .strictObject({
    /** Shared secret (UTF-8), or a list of accepted secrets for rotation. Required. */
    secret: secretList(),
    /** Header carrying the signature. Default `X-HMAC-Signature` (the reference's default). */
    header: headerName().default('X-HMAC-Signature'),
    /** Digest: `sha256` (default), `sha1` or `sha512`; case-insensitive. */
    algorithm: z
      .preprocess(
        (value) => (typeof value === 'string' ? value.toLowerCase() : value),
        z.enum(['sha256', 'sha1', 'sha512'], { message: 'must be sha256, sha1 or sha512' }),
      )
      .default('sha256'),
    /** Signature encoding: `hex` (default, either case) or `base64`. */
    encoding: z.enum(['hex', 'base64']).default('hex'),
    /**
     * Literal prefix before the signature, e.g. `sha256=` or `v0=`; when set it is required. When unset,
     * an optional `<algorithm>=` prefix is accepted (the reference's behaviour).
     */
    prefix: z.string().min(1).optional(),
    /** Header carrying a Unix timestamp (seconds) that is part of the signed content. Default: none. */
    timestamp_header: headerName().optional(),
    /** Accepted age (either direction) of `timestamp_header`, in seconds. Default 300. */
    tolerance_seconds: seconds(1, 86_400).default(300),
    /**
     * What is signed when `timestamp_header` is set: a template with `{timestamp}` and `{body}` (both
     * required). Default `{timestamp}.{body}`.
     */
    signed_payload: z.string().optional(),
  })
  .superRefine((config, ctx) => {
    if (config.signed_payload === undefined) return;
    if (config.timestamp_header === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['signed_payload'],
        message: 'only applies with timestamp_header',
      });
      return;
    }
    const template = config.signed_payload;
    if (template.split('{body}').length !== 2 || template.split('{timestamp}').length !== 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['signed_payload'],
        message: 'must contain {timestamp} and {body} exactly once each',
      });
    } else if (template.indexOf('{timestamp}') > template.indexOf('{body}')) {
      ctx.addIssue({
        code: 'custom',
        path: ['signed_payload'],
        message: '{timestamp} must come before {body}',
      });
    }
  });

export type HmacConfig = z.infer<typeof hmacSchema>;

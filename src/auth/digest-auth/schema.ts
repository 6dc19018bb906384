import { z } from 'zod';
import { intLike, requiredString } from '../../shared/config-fields.js';
import { seconds, secretList, toList } from '../fields.js';

export const DIGEST_ALGORITHMS = ['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

const algorithm = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? (DIGEST_ALGORITHMS.find((name) => name.toLowerCase() === value.trim().toLowerCase()) ?? value)
      : value,
  z.enum(DIGEST_ALGORITHMS, { message: `must be one of ${DIGEST_ALGORITHMS.join(', ')}` }),
);
const qop = z.enum(['auth', 'auth-int'], { message: 'must be auth or auth-int' });

/** `digest_auth`: RFC 7616 HTTP Digest with server-issued nonces. `{}` is a config error. */
export const digestAuthSchema = z
  .strictObject({
    /** Expected user name. Required. */
    username: requiredString(),
    /** Expected password, or a list for rotation. Required. */
    password: secretList(),
    /** Protection space named in the challenge. Default `Webhook API`. */
    realm: requiredString().default('Webhook API'),
    /**
     * Accepted algorithm(s), offered in this order: `MD5` (default, the reference's), `SHA-256`,
     * `MD5-sess`, `SHA-256-sess`. Prefer `["SHA-256", "MD5"]` when clients support it.
     */
    algorithm: z.union([algorithm, z.array(algorithm).min(1)]).default('MD5'),
    /** Accepted quality of protection: `auth` (default), `auth-int` (also covers the body), or both. */
    qop: z.union([qop, z.array(qop).min(1)]).default('auth'),
    /** Lifetime of an issued nonce in seconds. Default 300. */
    nonce_ttl_seconds: seconds(5, 86_400).default(300),
    /** Most nonces tracked for nonce-count replay protection. Default 10000. */
    max_nonces: intLike().pipe(z.int().min(10).max(1_000_000)).default(10_000),
  })
  .transform((config) => ({
    ...config,
    algorithms: [...new Set(toList(config.algorithm))],
    qops: [...new Set(toList(config.qop))],
  }));

export type DigestAuthConfig = z.infer<typeof digestAuthSchema>;

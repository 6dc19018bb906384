import { z } from 'zod';
import { boolLike, requiredString } from '../../shared/config-fields.js';
import { httpUrl, seconds, secretList, toList } from '../fields.js';
import { JWT_ALGORITHMS, isHmacAlgorithm, publicKeyFromPem } from './verify.js';

const algorithm = z.preprocess(
  (value) => (typeof value === 'string' ? value.trim().toUpperCase() : value),
  z.enum(JWT_ALGORITHMS, { message: `must be one of ${JWT_ALGORITHMS.join(', ')} (none is refused)` }),
);

/** One string or a non-empty list of strings (issuer, audience). */
export function oneOrMany() {
  return z.union([requiredString(), z.array(requiredString()).min(1)]);
}

/**
 * Checks the algorithm/key combination of a JWT config: HMAC and asymmetric algorithms are never mixed
 * (that is what makes key-confusion attacks possible), HMAC needs `secret`, a JWKS needs asymmetric
 * algorithms, and every PEM key must parse.
 */
export function checkJwtKeys(
  ctx: z.RefinementCtx,
  algorithms: readonly string[],
  secrets: readonly string[] | undefined,
  jwksUrl: string | undefined,
  names: { secret: string; algorithm: string },
): void {
  const hmac = algorithms.filter(isHmacAlgorithm);
  if (hmac.length > 0 && hmac.length < algorithms.length) {
    ctx.addIssue({
      code: 'custom',
      path: [names.algorithm],
      message: 'HMAC (HS*) and public-key algorithms cannot be mixed',
    });
    return;
  }
  if (secrets === undefined && jwksUrl === undefined) {
    ctx.addIssue({ code: 'custom', path: [names.secret], message: 'required (or jwks_url)' });
    return;
  }
  if (hmac.length > 0 && jwksUrl !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [names.algorithm],
      message: 'a JWKS needs public-key algorithms (RS*, PS*, ES*)',
    });
  }
  if (hmac.length === 0) {
    toList(secrets ?? []).forEach((pem, index) => {
      try {
        publicKeyFromPem(pem);
      } catch {
        ctx.addIssue({
          code: 'custom',
          path: Array.isArray(secrets) ? [names.secret, index] : [names.secret],
          message: 'must be a PEM public key or certificate for public-key algorithms',
        });
      }
    });
  }
}

/** `jwt`: a JWT in `Authorization: Bearer <token>`. `{}` or a blank secret is a config error. */
export const jwtSchema = z
  .strictObject({
    /**
     * HMAC secret (HS*), or the PEM public key / certificate (RS*, PS*, ES*); a list for rotation.
     * Required unless `jwks_url` is set.
     */
    secret: secretList().optional(),
    /** JWKS URL to fetch public keys from (cached; refreshed for unknown `kid`s). */
    jwks_url: httpUrl().optional(),
    /** Accepted algorithm, or a list. Default `HS256` with `secret`, `RS256` with `jwks_url`. */
    algorithm: z.union([algorithm, z.array(algorithm).min(1)]).optional(),
    /** Required `iss` (or list of accepted issuers). Default: not checked. */
    issuer: oneOrMany().optional(),
    /** Required `aud` (or list; any match). Default: not checked. */
    audience: oneOrMany().optional(),
    /** Check `exp` when present. Default true. */
    verify_exp: boolLike().default(true),
    /** Clock skew allowed for `exp`, `nbf` and `iat`, in seconds. Default 0. */
    leeway_seconds: seconds(0, 3600).default(0),
    /** Claims that must be present (e.g. `["exp", "sub"]`). Default none. */
    required_claims: z.array(requiredString()).optional(),
    /** JWKS cache lifetime in seconds. Default 600. */
    jwks_cache_seconds: seconds(1, 86_400).default(600),
    /** Timeout of the JWKS fetch in seconds. Default 5. */
    timeout_seconds: seconds(1, 60).default(5),
  })
  .transform((config) => ({
    ...config,
    algorithms:
      config.algorithm === undefined
        ? [config.jwks_url === undefined ? 'HS256' : 'RS256']
        : toList(config.algorithm),
  }))
  .superRefine((config, ctx) => {
    if (config.secret !== undefined && config.jwks_url !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwks_url'],
        message: 'use either secret or jwks_url, not both',
      });
      return;
    }
    checkJwtKeys(
      ctx,
      config.algorithms,
      config.secret === undefined ? undefined : toList(config.secret),
      config.jwks_url,
      {
        secret: 'secret',
        algorithm: 'algorithm',
      },
    );
  });

export type JwtConfig = z.infer<typeof jwtSchema>;

import { z } from 'zod';
import { boolLike, requiredString } from '../../shared/config-fields.js';
import { httpUrl, seconds, secretList, toList } from '../fields.js';
import { checkJwtKeys, oneOrMany } from '../jwt/schema.js';
import { JWT_ALGORITHMS } from '../jwt/verify.js';

const algorithm = z.preprocess(
  (value) => (typeof value === 'string' ? value.trim().toUpperCase() : value),
  z.enum(JWT_ALGORITHMS, { message: `must be one of ${JWT_ALGORITHMS.join(', ')} (none is refused)` }),
);

/**
 * `oauth2`: an OAuth 2.0 access token, checked by RFC 7662 introspection or validated locally as a JWT.
 * `{}`, no way to validate, or `validate_token: false` (accept any token) is a config error.
 */
export const oauth2Schema = z
  .strictObject({
    /** Authorization scheme expected before the token. Default `Bearer`. */
    token_type: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { message: 'must be an auth scheme name' })
      .default('Bearer'),
    /** RFC 7662 introspection endpoint (http/https). */
    introspection_endpoint: httpUrl().optional(),
    /** Client credentials for the introspection call (HTTP Basic); give both or neither. */
    client_id: requiredString().optional(),
    client_secret: requiredString().optional(),
    /** Scopes the token must carry (all of them). Default none. */
    required_scope: z.union([requiredString(), z.array(requiredString())]).optional(),
    /** Must stay true: `false` (accept any token) is refused. Kept for the reference's configs. */
    validate_token: boolLike()
      .refine((value) => value, { message: 'false would accept any token; not supported (fail closed)' })
      .default(true),
    /** Local JWT validation: HMAC secret or PEM public key; a list for rotation. */
    jwt_secret: secretList().optional(),
    /** Local JWT validation with keys from a JWKS URL. */
    jwks_url: httpUrl().optional(),
    /** JWT algorithms. Default `HS256`, or `RS256` for a PEM key or `jwks_url`. */
    jwt_algorithms: z.union([algorithm, z.array(algorithm).min(1)]).optional(),
    /** Required audience (JWT `aud`, or the introspection response's `aud` when it has one). */
    audience: oneOrMany().optional(),
    /** Required issuer (JWT `iss`, or the introspection response's `iss` when it has one). */
    issuer: oneOrMany().optional(),
    /** Check expiry. Default true. */
    verify_exp: boolLike().default(true),
    /** Clock skew allowed in seconds. Default 0. */
    leeway_seconds: seconds(0, 3600).default(0),
    /** How long an introspection answer is cached (never beyond the token's `exp`). Default 60. */
    cache_seconds: seconds(0, 3600).default(60),
    /** Timeout of introspection and JWKS calls in seconds. Default 5. */
    timeout_seconds: seconds(1, 60).default(5),
  })
  .transform((config) => {
    const pem = toList(config.jwt_secret ?? []).some((key) => key.includes('-----BEGIN'));
    const fallback = config.jwks_url !== undefined || pem ? 'RS256' : 'HS256';
    return {
      ...config,
      algorithms: config.jwt_algorithms === undefined ? [fallback] : toList(config.jwt_algorithms),
      scopes: config.required_scope === undefined ? [] : toList(config.required_scope),
    };
  })
  .superRefine((config, ctx) => {
    const modes = [config.introspection_endpoint, config.jwt_secret, config.jwks_url].filter(
      (v) => v !== undefined,
    );
    if (modes.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['introspection_endpoint'],
        message: 'required: set introspection_endpoint, jwt_secret or jwks_url',
      });
      return;
    }
    if (modes.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'set only one of introspection_endpoint, jwt_secret, jwks_url',
      });
      return;
    }
    if ((config.client_id === undefined) !== (config.client_secret === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [config.client_id === undefined ? 'client_id' : 'client_secret'],
        message: 'client_id and client_secret go together',
      });
    }
    if (config.introspection_endpoint === undefined) {
      checkJwtKeys(
        ctx,
        config.algorithms,
        config.jwt_secret === undefined ? undefined : toList(config.jwt_secret),
        config.jwks_url,
        { secret: 'jwt_secret', algorithm: 'jwt_algorithms' },
      );
    }
  });

export type OAuth2Config = z.infer<typeof oauth2Schema>;

/**
 * `jwt`: a JSON Web Token in `Authorization: Bearer <token>`, verified with exactly the configured
 * algorithms against static keys (rotation list) or a cached remote JWKS; issuer, audience, expiry (with
 * leeway) and required claims are checked. Failures carry an RFC 6750 `Bearer` challenge.
 */
import { toList } from '../fields.js';
import { AUTH_OK, authFailure, type AuthMethod } from '../types.js';
import { jwtSchema, type JwtConfig } from './schema.js';
import { createJwtChecker } from './verify.js';

/** Reads `Bearer <token>` from the Authorization header; a failure value otherwise. */
export function bearerToken(
  header: string | undefined,
  scheme: string,
  label: string,
):
  { ok: true; token: string } | { ok: false; code: 'WC_AUTH_MISSING' | 'WC_AUTH_MALFORMED'; detail: string } {
  if (header === undefined || header.trim() === '') {
    return { ok: false, code: 'WC_AUTH_MISSING', detail: 'Missing Authorization header' };
  }
  if (/[\r\n\0]/.test(header)) {
    return {
      ok: false,
      code: 'WC_AUTH_MALFORMED',
      detail: 'Invalid header format: contains forbidden character',
    };
  }
  const prefix = `${scheme} `;
  if (!header.startsWith(prefix))
    return { ok: false, code: 'WC_AUTH_MALFORMED', detail: `${label} ${scheme} token required` };
  const token = header.slice(prefix.length).trim();
  if (token === '')
    return { ok: false, code: 'WC_AUTH_MALFORMED', detail: `${label} ${scheme} token required` };
  return { ok: true, token };
}

export const jwtMethod: AuthMethod<JwtConfig> = {
  type: 'jwt',
  schema: jwtSchema,
  credentialHeaders: () => ['authorization'],
  secretFields: ['secret'],
  create(config, context) {
    const check = createJwtChecker({
      label: 'JWT',
      algorithms: config.algorithms,
      ...(config.secret === undefined ? {} : { secrets: toList(config.secret) }),
      ...(config.jwks_url === undefined ? {} : { jwksUrl: config.jwks_url }),
      jwksCacheSeconds: config.jwks_cache_seconds,
      timeoutSeconds: config.timeout_seconds,
      ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
      ...(config.audience === undefined ? {} : { audience: config.audience }),
      verifyExp: config.verify_exp,
      leewaySeconds: config.leeway_seconds,
      ...(config.required_claims === undefined ? {} : { requiredClaims: config.required_claims }),
      now: context.now,
    });
    return async (request) => {
      const bearer = bearerToken(request.headers.authorization, 'Bearer', 'JWT');
      if (!bearer.ok) return authFailure(bearer.code, bearer.detail, 'Bearer');
      const result = await check(bearer.token);
      if (result.ok) return AUTH_OK;
      if (result.code === 'WC_AUTH_UNAVAILABLE')
        context.logger.warn({ webhook: context.webhookId }, 'JWKS fetch failed');
      return authFailure(result.code, result.detail, 'Bearer error="invalid_token"');
    };
  },
};

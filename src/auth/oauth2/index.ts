/**
 * `oauth2`: an OAuth 2.0 access token in `Authorization: <token_type> <token>`, validated either by RFC 7662
 * token introspection (answers cached by token hash for `cache_seconds`, never beyond the token's `exp`;
 * concurrent lookups of one token share one call) or locally as a JWT (static keys or JWKS). Required
 * scopes must all be present (`scope` as a space-separated string or a list; `scp` for JWTs).
 */
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../../shared/errors.js';
import { toList } from '../fields.js';
import { bearerToken } from '../jwt/index.js';
import { createJwtChecker } from '../jwt/verify.js';
import { AUTH_OK, authFailure, type AuthContext, type AuthResult, type AuthMethod } from '../types.js';
import { oauth2Schema, type OAuth2Config } from './schema.js';

const MAX_CACHE_ENTRIES = 10_000;

interface Claims {
  readonly active?: unknown;
  readonly scope?: unknown;
  readonly scp?: unknown;
  readonly exp?: unknown;
  readonly iss?: unknown;
  readonly aud?: unknown;
}

function scopesOf(claims: Claims): Set<string> {
  const value = claims.scope ?? claims.scp;
  if (typeof value === 'string') return new Set(value.split(' ').filter((s) => s !== ''));
  if (Array.isArray(value)) return new Set(value.filter((s): s is string => typeof s === 'string'));
  return new Set();
}

function matchesAny(value: unknown, accepted: readonly string[]): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => typeof v === 'string' && accepted.includes(v));
}

type Outcome = AuthResult;

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 §2.3.1 client credentials). */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

function introspector(config: OAuth2Config & { introspection_endpoint: string }, context: AuthContext) {
  const cache = new Map<string, { readonly result: Outcome; readonly expiresAt: number }>();
  const inflight = new Map<string, Promise<Outcome>>();
  const authorization =
    config.client_id === undefined || config.client_secret === undefined
      ? undefined
      : `Basic ${Buffer.from(`${formEncode(config.client_id)}:${formEncode(config.client_secret)}`).toString('base64')}`;
  const issuers = config.issuer === undefined ? undefined : toList(config.issuer);
  const audiences = config.audience === undefined ? undefined : toList(config.audience);
  const fail = (code: ErrorCode, detail: string) => authFailure(code, detail, 'Bearer error="invalid_token"');

  async function call(token: string): Promise<{ outcome: Outcome; cacheUntil: number }> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (authorization !== undefined) headers.authorization = authorization;
    let claims: Claims;
    try {
      const response = await fetch(config.introspection_endpoint, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(config.timeout_seconds * 1000),
        redirect: 'error',
      });
      if (!response.ok) {
        await response.body?.cancel();
        return {
          outcome: fail(
            'WC_AUTH_UNAVAILABLE',
            `OAuth 2.0 token introspection failed: HTTP ${response.status}`,
          ),
          cacheUntil: 0,
        };
      }
      claims = (await response.json()) as Claims;
      if (claims === null || typeof claims !== 'object')
        throw new Error('introspection answer is not an object');
    } catch (error) {
      context.logger.warn({ webhook: context.webhookId, err: error }, 'OAuth 2.0 introspection failed');
      return { outcome: fail('WC_AUTH_UNAVAILABLE', 'OAuth 2.0 token introspection failed'), cacheUntil: 0 };
    }
    const now = context.now();
    let cacheUntil = now + config.cache_seconds * 1000;
    if (claims.active !== true)
      return { outcome: fail('WC_AUTH_MISMATCH', 'OAuth 2.0 token is not active'), cacheUntil };
    if (typeof claims.exp === 'number') {
      cacheUntil = Math.min(cacheUntil, (claims.exp + config.leeway_seconds) * 1000);
      if (config.verify_exp && now > (claims.exp + config.leeway_seconds) * 1000) {
        return { outcome: fail('WC_AUTH_EXPIRED', 'OAuth 2.0 token expired'), cacheUntil: 0 };
      }
    }
    if (issuers !== undefined && claims.iss !== undefined && !matchesAny(claims.iss, issuers)) {
      return { outcome: fail('WC_AUTH_MISMATCH', 'OAuth 2.0 token issuer mismatch'), cacheUntil };
    }
    if (audiences !== undefined && claims.aud !== undefined && !matchesAny(claims.aud, audiences)) {
      return { outcome: fail('WC_AUTH_MISMATCH', 'OAuth 2.0 token audience mismatch'), cacheUntil };
    }
    return { outcome: checkScopes(config.scopes, claims), cacheUntil };
  }

  return async (token: string): Promise<Outcome> => {
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = cache.get(key);
    if (cached !== undefined) {
      if (cached.expiresAt > context.now()) return cached.result;
      cache.delete(key);
    }
    const pending = inflight.get(key);
    if (pending !== undefined) return pending;
    const promise = call(token).then(({ outcome, cacheUntil }) => {
      if (cacheUntil > context.now() && config.cache_seconds > 0) {
        if (cache.size >= MAX_CACHE_ENTRIES) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
        cache.set(key, { result: outcome, expiresAt: cacheUntil });
      }
      return outcome;
    });
    inflight.set(key, promise);
    try {
      return await promise;
    } finally {
      inflight.delete(key);
    }
  };
}

function checkScopes(required: readonly string[], claims: Claims): Outcome {
  if (required.length === 0) return AUTH_OK;
  const granted = scopesOf(claims);
  return required.every((scope) => granted.has(scope))
    ? AUTH_OK
    : authFailure(
        'WC_AUTH_MISMATCH',
        'OAuth 2.0 token missing required scopes',
        `Bearer error="insufficient_scope", scope="${required.join(' ')}"`,
      );
}

export const oauth2Method: AuthMethod<OAuth2Config> = {
  type: 'oauth2',
  schema: oauth2Schema,
  credentialHeaders: () => ['authorization'],
  secretFields: ['client_secret', 'jwt_secret'],
  create(config, context) {
    let validate: (token: string) => Promise<Outcome>;
    if (config.introspection_endpoint !== undefined) {
      validate = introspector({ ...config, introspection_endpoint: config.introspection_endpoint }, context);
    } else {
      const check = createJwtChecker({
        label: 'OAuth 2.0',
        algorithms: config.algorithms,
        ...(config.jwt_secret === undefined ? {} : { secrets: toList(config.jwt_secret) }),
        ...(config.jwks_url === undefined ? {} : { jwksUrl: config.jwks_url }),
        timeoutSeconds: config.timeout_seconds,
        ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
        ...(config.audience === undefined ? {} : { audience: config.audience }),
        verifyExp: config.verify_exp,
        leewaySeconds: config.leeway_seconds,
        now: context.now,
      });
      validate = async (token) => {
        const result = await check(token);
        if (!result.ok) return authFailure(result.code, result.detail, 'Bearer error="invalid_token"');
        return checkScopes(config.scopes, result.payload);
      };
    }
    return async (request) => {
      const bearer = bearerToken(request.headers.authorization, config.token_type, 'OAuth 2.0');
      if (!bearer.ok) return authFailure(bearer.code, bearer.detail, config.token_type);
      return validate(bearer.token);
    };
  },
};

/**
 * JWT verification shared by `jwt` and `oauth2` (local validation): static keys (HMAC secrets, PEM public
 * keys or certificates, several for rotation) or a remote JWKS with caching; exactly the configured
 * algorithms; issuer, audience, expiry with leeway, required claims. Errors map to stable auth codes.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { ErrorCode } from '../../shared/errors.js';

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
/** Every algorithm a JWT may be signed with (`none` and anything else is refused). */
export const JWT_ALGORITHMS = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export function isHmacAlgorithm(algorithm: string): boolean {
  return (HMAC_ALGORITHMS as readonly string[]).includes(algorithm);
}

/** Parses a public key PEM (SPKI, PKCS#1 RSA or an X.509 certificate); throws when unusable. */
export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem.replace(/\\n/g, '\n'));
}

export interface JwtCheckOptions {
  /** Label for details: `JWT` or `OAuth 2.0`. */
  readonly label: string;
  readonly algorithms: readonly string[];
  /** Static keys (secrets for HS*, PEM for the rest); several for rotation. */
  readonly secrets?: readonly string[];
  readonly jwksUrl?: string;
  /** JWKS cache lifetime in seconds. */
  readonly jwksCacheSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly issuer?: string | readonly string[];
  readonly audience?: string | readonly string[];
  readonly verifyExp: boolean;
  readonly leewaySeconds: number;
  readonly requiredClaims?: readonly string[];
  readonly now: () => number;
}

export type JwtCheck =
  | { readonly ok: true; readonly payload: JWTPayload }
  | { readonly ok: false; readonly code: ErrorCode; readonly detail: string };

class JwksUnavailable extends Error {}

/** Builds the verifier of a compact JWT; never throws. */
export function createJwtChecker(options: JwtCheckOptions): (token: string) => Promise<JwtCheck> {
  const { label } = options;
  const keys: (KeyObject | JWTVerifyGetKey)[] = [];
  if (options.jwksUrl !== undefined) {
    const remote = createRemoteJWKSet(new URL(options.jwksUrl), {
      timeoutDuration: (options.timeoutSeconds ?? 5) * 1000,
      cacheMaxAge: (options.jwksCacheSeconds ?? 600) * 1000,
      cooldownDuration: 30_000,
    });
    keys.push(async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
        throw new JwksUnavailable('JWKS unavailable', { cause: error });
      }
    });
  }
  for (const secret of options.secrets ?? []) {
    keys.push(
      options.algorithms.every(isHmacAlgorithm)
        ? createSecretKey(Buffer.from(secret, 'utf8'))
        : publicKeyFromPem(secret),
    );
  }
  const fail = (code: ErrorCode, detail: string): JwtCheck => ({ ok: false, code, detail });

  function classify(error: unknown): JwtCheck {
    if (error instanceof JwksUnavailable)
      return fail('WC_AUTH_UNAVAILABLE', `${label} signing keys unavailable`);
    const { code, claim, reason } = error as { code?: string; claim?: string; reason?: string };
    switch (code) {
      case 'ERR_JWT_EXPIRED':
        return fail('WC_AUTH_EXPIRED', `${label} token expired`);
      case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
        if (reason === 'missing')
          return fail('WC_AUTH_MALFORMED', `${label} missing required claim: ${claim}`);
        if (claim === 'iss') return fail('WC_AUTH_MISMATCH', `Invalid ${label} issuer`);
        if (claim === 'aud') return fail('WC_AUTH_MISMATCH', `Invalid ${label} audience`);
        if (claim === 'nbf') return fail('WC_AUTH_MISMATCH', `${label} token not yet valid`);
        return fail('WC_AUTH_MISMATCH', `Invalid ${label} claim: ${claim}`);
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
        return fail('WC_AUTH_MISMATCH', `Invalid ${label} algorithm`);
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      case 'ERR_JWKS_NO_MATCHING_KEY':
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        return fail('WC_AUTH_MISMATCH', `Invalid ${label} signature`);
      case 'ERR_JWS_INVALID':
      case 'ERR_JWT_INVALID':
        return fail('WC_AUTH_MALFORMED', `Invalid ${label} token format`);
      default:
        return fail('WC_AUTH_MISMATCH', `${label} validation failed`);
    }
  }

  const algorithms = [...options.algorithms];
  const requiredClaims = [...(options.requiredClaims ?? [])];
  return async (token) => {
    const verifyOptions = {
      algorithms,
      clockTolerance: options.leewaySeconds,
      currentDate: new Date(options.now()),
      ...(options.issuer === undefined ? {} : { issuer: options.issuer as string | string[] }),
      ...(options.audience === undefined ? {} : { audience: options.audience as string | string[] }),
      ...(requiredClaims.length === 0 ? {} : { requiredClaims }),
    };
    let last: unknown;
    for (const key of keys) {
      try {
        const { payload } = await jwtVerify(token, key as KeyObject, verifyOptions);
        return { ok: true, payload };
      } catch (error) {
        const code = (error as { code?: string }).code;
        // exp is the last claim jose checks, so issuer, audience and nbf have already passed.
        if (code === 'ERR_JWT_EXPIRED' && !options.verifyExp) {
          return { ok: true, payload: (error as { payload: JWTPayload }).payload };
        }
        last = error;
        // Only a signature mismatch means "try the next key"; anything else is the token's fault.
        if (code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' && code !== 'ERR_JWKS_NO_MATCHING_KEY') break;
      }
    }
    return classify(last);
  };
}

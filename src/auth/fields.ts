/**
 * Schema building blocks shared by the auth methods: secrets (one value or a rotation list), header
 * names, tolerance windows. Every secret field accepts a single non-empty string or a non-empty list of
 * them, so a secret can be rotated without downtime (add the new one, deploy the sender, drop the old).
 */
import { z } from 'zod';
import { intLike, requiredString } from '../shared/config-fields.js';

const nonBlank = requiredString();

/** A secret: a non-empty string, or a non-empty list of non-empty strings (rotation). */
export function secretList() {
  return z.union([nonBlank, z.array(nonBlank).min(1, { message: 'must list at least one secret' })], {
    error: (issue) =>
      issue.input === undefined ? 'required' : 'must be a non-empty string or a non-empty list of strings',
  });
}

/** Normalises a `secretList()` value to an array. */
export function toList<T>(value: T | readonly T[]): T[] {
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

/** An HTTP header name (RFC 9110 token); stored as given, compared lower-cased. */
export function headerName() {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be a string') })
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { message: 'must be a valid HTTP header name' });
}

/** A duration in whole seconds within `[min, max]`. */
export function seconds(min: number, max: number) {
  return intLike().pipe(z.int().min(min).max(max));
}

/** An absolute http(s) URL (operator configuration: outbound calls for JWKS, introspection, reCAPTCHA). */
export function httpUrl() {
  return z.string().refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: 'must be an absolute http:// or https:// URL' },
  );
}

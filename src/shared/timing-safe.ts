/**
 * Constant-time comparison helpers. `crypto.timingSafeEqual` needs equal-length inputs; comparing
 * SHA-256 digests of both sides gives equal lengths without revealing the length of a secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string | Uint8Array): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Constant-time equality of two strings or byte sequences of any length (compares SHA-256 digests,
 * so neither the content nor the length of the secret side leaks through timing).
 */
export function safeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Constant-time equality of two MAC digests. The expected length is public (fixed by the algorithm),
 * so a length mismatch returns false at once.
 */
export function digestEqual(expected: Uint8Array, received: Uint8Array): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received);
}

/** True when `received` equals any of `candidates`; every candidate is compared (no early exit). */
export function digestEqualsAny(candidates: readonly Uint8Array[], received: Uint8Array): boolean {
  let match = false;
  for (const candidate of candidates) if (digestEqual(candidate, received)) match = true;
  return match;
}

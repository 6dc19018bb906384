/**
 * Schema building blocks shared by every config schema. `{$VAR}` substitution always yields strings,
 * so numeric and boolean fields also accept their canonical string spelling ("5432", "true").
 */
import { z } from 'zod';

/** An integer, or a string of digits (from `{$VAR}` substitution). */
export function intLike() {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value),
    z.int(),
  );
}

/** A finite number, or its decimal string spelling. */
export function numberLike() {
  return z.preprocess(
    (value) =>
      typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : value,
    z.number(),
  );
}

/** A boolean, or the strings "true"/"false". */
export function boolLike() {
  return z.preprocess((value) => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    return value;
  }, z.boolean());
}

/** A TCP port 1..65535. */
export function port() {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value),
    z.int().min(1).max(65535),
  );
}

/** A non-empty string (after trimming) — for secrets and names that must be present. */
export function requiredString() {
  return z.string().refine((value) => value.trim() !== '', { message: 'must not be empty' });
}

/**
 * Helpers shared by the signature methods (`hmac` and the provider presets): HMAC over several parts
 * without concatenating the body, strict hex/base64 decoding, and a timestamp window check.
 */
import { createHmac, type KeyObject } from 'node:crypto';

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** HMAC of the concatenation of `parts` (no copy of the body is made). */
export function hmac(
  algorithm: HmacAlgorithm,
  key: string | Buffer | KeyObject,
  parts: readonly (string | Uint8Array)[],
): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_UNPADDED = /^[A-Za-z0-9+/]*$/;

/** Decodes hex (either case); undefined when not well-formed hex. */
export function decodeHex(text: string): Buffer | undefined {
  return HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
}

/** Decodes standard base64 (padding optional); undefined when not well-formed. */
export function decodeBase64(text: string): Buffer | undefined {
  if (text === '') return undefined;
  if (!BASE64.test(text) && !(BASE64_UNPADDED.test(text) && text.length % 4 !== 1)) return undefined;
  return Buffer.from(text, 'base64');
}

export type TimestampCheck =
  | { readonly ok: true; readonly seconds: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'expired' };

/**
 * Checks a Unix timestamp in whole seconds against `now` (ms): it must be digits only and within
 * `toleranceSeconds` in either direction (old requests are replays; far-future ones are forged or skewed).
 */
export function checkTimestamp(text: string, nowMs: number, toleranceSeconds: number): TimestampCheck {
  if (!/^\d{1,12}$/.test(text)) return { ok: false, reason: 'malformed' };
  const seconds = Number(text);
  if (Math.abs(nowMs / 1000 - seconds) > toleranceSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, seconds };
}

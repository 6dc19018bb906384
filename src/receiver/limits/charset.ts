/**
 * Body decoding with charset detection (reference spec §8.4), made strict.
 *
 * The `charset` parameter of `Content-Type` is honoured for UTF-8, latin-1 / ISO-8859-1, cp1252 /
 * windows-1252, ASCII and UTF-16 (`utf-16` with BOM detection, `utf-16le`, `utf-16be`). Any other or
 * malformed charset is treated as undeclared.
 *
 * Undeclared means UTF-8, **strictly**: invalid UTF-8 is `WC_BODY_UNDECODABLE` (400). The reference falls
 * back to latin-1, which "succeeds" on any bytes and silently hands modules corrupted text; a sender with
 * a non-UTF-8 body must declare its charset. A declared charset is also decoded strictly (invalid UTF-8,
 * bytes ≥ 0x80 under ASCII, odd-length or unpaired-surrogate UTF-16 are all errors); latin-1 and cp1252
 * map every byte and never fail. A leading BOM is stripped; an undeclared body that starts with a UTF-16
 * BOM is decoded as UTF-16.
 */
import { WebhookConnectError } from '../../shared/errors.js';

/** Canonical names of the charsets {@link decodeBody} decodes. */
export type SupportedCharset =
  'utf-8' | 'iso-8859-1' | 'windows-1252' | 'us-ascii' | 'utf-16' | 'utf-16le' | 'utf-16be';

const CHARSET_ALIASES: ReadonlyMap<string, SupportedCharset> = new Map([
  ['utf-8', 'utf-8'],
  ['utf8', 'utf-8'],
  ['latin-1', 'iso-8859-1'],
  ['latin1', 'iso-8859-1'],
  ['iso-8859-1', 'iso-8859-1'],
  ['iso8859-1', 'iso-8859-1'],
  ['iso_8859-1', 'iso-8859-1'],
  ['l1', 'iso-8859-1'],
  ['cp1252', 'windows-1252'],
  ['windows-1252', 'windows-1252'],
  ['ascii', 'us-ascii'],
  ['us-ascii', 'us-ascii'],
  ['utf-16', 'utf-16'],
  ['utf16', 'utf-16'],
  ['utf-16le', 'utf-16le'],
  ['utf-16be', 'utf-16be'],
]);

const CHARSET_PARAM = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;
const CHARSET_NAME = /^[a-z0-9._-]{1,64}$/;

/**
 * The supported charset declared by a `Content-Type` value, or `undefined` when none is declared or the
 * declared one is malformed (name not `^[a-z0-9._-]{1,64}$` after lower-casing) or unsupported.
 */
export function declaredCharset(contentType: string | undefined): SupportedCharset | undefined {
  if (contentType === undefined) return undefined;
  const match = CHARSET_PARAM.exec(contentType);
  if (match === null) return undefined;
  const name = (match[1] ?? match[2] ?? '').trim().toLowerCase();
  if (!CHARSET_NAME.test(name)) return undefined;
  return CHARSET_ALIASES.get(name);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const utf16le = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true });

/** cp1252 code points for bytes 0x80..0x9f (the WHATWG mapping: the five unassigned bytes map to C1). */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d,
  0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a,
  0x153, 0x9d, 0x17e, 0x178,
];

function undecodable(charset: SupportedCharset): WebhookConnectError {
  return new WebhookConnectError('WC_BODY_UNDECODABLE', {
    detail:
      charset === 'utf-8'
        ? 'Request body is not valid UTF-8 (declare the charset in Content-Type if it is not UTF-8)'
        : `Request body is not valid ${charset}`,
  });
}

function decodeUtf16(raw: Uint8Array, bigEndian: boolean, charset: SupportedCharset): string {
  if (raw.length % 2 !== 0) throw undecodable(charset);
  let bytes = raw;
  if (bigEndian) {
    bytes = Buffer.from(raw); // a copy: swap16 works in place
    (bytes as Buffer).swap16();
  }
  let start = 0;
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) start = 2; // BOM, now little-endian
  try {
    return utf16le.decode(bytes.subarray(start));
  } catch {
    throw undecodable(charset);
  }
}

function hasUtf16Bom(raw: Uint8Array): 'le' | 'be' | undefined {
  if (raw.length < 2) return undefined;
  if (raw[0] === 0xff && raw[1] === 0xfe) return 'le';
  if (raw[0] === 0xfe && raw[1] === 0xff) return 'be';
  return undefined;
}

/**
 * Decodes a request body to text using the charset declared in `contentType` (rules in the module
 * comment). Throws `WC_BODY_UNDECODABLE` (400) when the bytes are not valid in that charset.
 */
export function decodeBody(raw: Uint8Array, contentType: string | undefined): string {
  const charset = declaredCharset(contentType);
  switch (charset) {
    case undefined: {
      const bom = hasUtf16Bom(raw);
      if (bom !== undefined) return decodeUtf16(raw, bom === 'be', 'utf-16');
      return decodeUtf8(raw);
    }
    case 'utf-8':
      return decodeUtf8(raw);
    case 'iso-8859-1':
      return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
    case 'us-ascii':
      for (let i = 0; i < raw.length; i++) if ((raw[i] as number) > 0x7f) throw undecodable(charset);
      return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
    case 'windows-1252':
      return decodeCp1252(raw);
    case 'utf-16':
      // BOM decides; without one, little-endian (what senders without a BOM use in practice).
      return decodeUtf16(raw, hasUtf16Bom(raw) === 'be', charset);
    case 'utf-16le':
      return decodeUtf16(raw, false, charset);
    case 'utf-16be':
      return decodeUtf16(raw, true, charset);
  }
}

function decodeUtf8(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw undecodable('utf-8');
  }
}

function decodeCp1252(raw: Uint8Array): string {
  let high = false;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] as number;
    if (b >= 0x80 && b <= 0x9f) {
      high = true;
      break;
    }
  }
  const latin1 = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  if (!high) return latin1; // cp1252 equals latin-1 outside 0x80..0x9f
  return latin1.replace(/[\u0080-\u009f]/g, (c) =>
    String.fromCharCode(CP1252_HIGH[c.charCodeAt(0) - 0x80] as number),
  );
}

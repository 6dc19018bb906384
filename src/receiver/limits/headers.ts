/**
 * Request-header limits (reference spec §8.4, with the header budget raised per §10.3-32).
 *
 * Node's HTTP parser already refuses CR, LF and NUL inside header lines and answers 431 itself when the
 * header block exceeds the server's `maxHeaderSize` (16 KiB by default). For {@link DEFAULT_HEADER_LIMITS}'s
 * 64 KiB budget to be reachable the server must be created with `maxHeaderSize` ≥ that budget plus the
 * request line; otherwise Node's smaller limit applies first.
 */
import { WebhookConnectError } from '../../shared/errors.js';

/** Header limits; every field is optional and defaults to {@link DEFAULT_HEADER_LIMITS}. */
export interface HeaderLimits {
  /** Most header lines accepted (a repeated header counts once per line). Default 100. */
  readonly maxCount?: number;
  /**
   * Budget for Σ(name length + value length) over all header lines, in bytes (Node decodes header bytes as
   * latin-1, so string length equals byte count). Default 65536 (64 KiB): the reference's 8 KiB is
   * tripped by ordinary large cookies and JWTs.
   */
  readonly maxTotalBytes?: number;
}

/** The defaults: 100 header lines, 64 KiB total. */
export const DEFAULT_HEADER_LIMITS = Object.freeze({ maxCount: 100, maxTotalBytes: 65_536 });

/**
 * CR, LF, NUL, U+2028 and U+2029 — and the latter two as they arrive from Node, which decodes header bytes
 * as latin-1, so their UTF-8 encodings E2 80 A8 / E2 80 A9 show up as "\u00e2\u0080\u00a8" / "...\u00a9".
 */
const FORBIDDEN = /[\r\n\0\u2028\u2029]|\u00e2\u0080[\u00a8\u00a9]/;

/**
 * Checks the request's header lines, given as Node's flat `req.rawHeaders` list
 * (`[name0, value0, name1, value1, ...]`).
 *
 * - more than `maxCount` lines → `WC_HEADERS_INVALID` (400) "Too many headers: N (max: M)"
 * - a forbidden character in a name or value → `WC_HEADERS_INVALID` (400)
 *   "Invalid header name: contains forbidden character" / "Invalid header value: ..."
 * - total size over `maxTotalBytes` → `WC_HEADERS_TOO_LARGE` (431) "Headers too large: N bytes (max: M)"
 */
export function checkHeaders(
  rawHeaders: readonly string[],
  limits: HeaderLimits = DEFAULT_HEADER_LIMITS,
): void {
  const maxCount = limits.maxCount ?? DEFAULT_HEADER_LIMITS.maxCount;
  const maxTotal = limits.maxTotalBytes ?? DEFAULT_HEADER_LIMITS.maxTotalBytes;
  const count = rawHeaders.length >>> 1;
  if (count > maxCount) {
    throw new WebhookConnectError('WC_HEADERS_INVALID', {
      detail: `Too many headers: ${count} (max: ${maxCount})`,
    });
  }
  let total = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    if (FORBIDDEN.test(name)) {
      throw new WebhookConnectError('WC_HEADERS_INVALID', {
        detail: 'Invalid header name: contains forbidden character',
      });
    }
    if (FORBIDDEN.test(value)) {
      throw new WebhookConnectError('WC_HEADERS_INVALID', {
        detail: 'Invalid header value: contains forbidden character',
      });
    }
    total += name.length + value.length;
  }
  if (total > maxTotal) {
    throw new WebhookConnectError('WC_HEADERS_TOO_LARGE', {
      detail: `Headers too large: ${total} bytes (max: ${maxTotal})`,
    });
  }
}

/** Decoding and parsing a `data_type: "json"` webhook body under the §8.4 limits. */
import { WebhookConnectError } from '../../shared/errors.js';
import { decodeBody } from './charset.js';
import { checkJsonDepthBeforeParse, checkJsonLimits, DEFAULT_JSON_LIMITS, type JsonLimits } from './json.js';

/**
 * Parses a JSON webhook body. Any JSON value is accepted (not only objects). In order:
 * 1. {@link decodeBody} — charset from `contentType`, strict UTF-8 by default → `WC_BODY_UNDECODABLE` (400);
 * 2. a depth pre-scan of the text, so a hostile 10,000-deep document is refused before `JSON.parse`
 *    builds it → `WC_JSON_TOO_DEEP` (400);
 * 3. `JSON.parse` → `WC_JSON_MALFORMED` (400) "Malformed JSON payload" (an empty body is malformed);
 * 4. {@link checkJsonLimits} → `WC_JSON_STRING_TOO_LONG` (400).
 *
 * `limits` default to depth 50 and strings of 1,048,576 characters. The body size limit is not checked
 * here: it is enforced while the body is read.
 */
export function parseJsonBody(
  raw: Uint8Array,
  contentType: string | undefined,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): unknown {
  const text = decodeBody(raw, contentType);
  checkJsonDepthBeforeParse(text, limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new WebhookConnectError('WC_JSON_MALFORMED', { detail: 'Malformed JSON payload', cause });
  }
  checkJsonLimits(value, limits);
  return value;
}

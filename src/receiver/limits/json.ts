/**
 * JSON payload limits (reference spec §8.4): nesting depth and string length.
 *
 * Depth counts enclosing containers: a scalar is depth 0, `{}` and `[]` are depth 1, `[[1]]` is depth 2.
 * Both checks here are iterative, so a 10,000-deep document cannot overflow the call stack, and
 * {@link checkJsonDepthBeforeParse} refuses such a document before `JSON.parse` spends time and memory
 * building it.
 */
import { WebhookConnectError } from '../../shared/errors.js';

/** JSON limits; fields default to {@link DEFAULT_JSON_LIMITS}. */
export interface JsonLimits {
  /** Deepest container nesting accepted. Default 50. */
  readonly maxDepth?: number;
  /**
   * Longest string *value* accepted, in UTF-16 code units (object keys are not checked, as in the
   * reference). Default 1048576 (1 Mi).
   */
  readonly maxStringLength?: number;
}

/** The defaults: depth 50, strings up to 1,048,576 characters. */
export const DEFAULT_JSON_LIMITS = Object.freeze({ maxDepth: 50, maxStringLength: 1_048_576 });

function tooDeep(depth: number, maxDepth: number): WebhookConnectError {
  return new WebhookConnectError('WC_JSON_TOO_DEEP', {
    detail: `JSON too deeply nested: ${depth} levels (max: ${maxDepth})`,
  });
}

/**
 * Checks a parsed JSON value: throws `WC_JSON_TOO_DEEP` (400) "JSON too deeply nested: N levels (max: M)"
 * or `WC_JSON_STRING_TOO_LONG` (400) "String too long: N chars (max: M)" at the first violation found.
 * For depth, N is the first level found beyond the limit (so M + 1): checking stops there.
 */
export function checkJsonLimits(value: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS): void {
  const maxDepth = limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth;
  const maxString = limits.maxStringLength ?? DEFAULT_JSON_LIMITS.maxStringLength;
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'string' && value.length > maxString) throw stringTooLong(value.length, maxString);
    return;
  }
  // Explicit stack of containers and their depths (parallel arrays: no per-entry allocation).
  const containers: object[] = [value];
  const depths: number[] = [1];
  while (containers.length > 0) {
    const container = containers.pop() as object;
    const depth = depths.pop() as number;
    if (depth > maxDepth) throw tooDeep(depth, maxDepth);
    const children: readonly unknown[] = Array.isArray(container) ? container : Object.values(container);
    for (let i = 0; i < children.length; i++) {
      const child = children[i];
      if (typeof child === 'string') {
        if (child.length > maxString) throw stringTooLong(child.length, maxString);
      } else if (typeof child === 'object' && child !== null) {
        containers.push(child);
        depths.push(depth + 1);
      }
    }
  }
}

function stringTooLong(length: number, maxString: number): WebhookConnectError {
  return new WebhookConnectError('WC_JSON_STRING_TOO_LONG', {
    detail: `String too long: ${length} chars (max: ${maxString})`,
  });
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The first nesting depth beyond `maxDepth` reached by the JSON text, or 0 when it stays within the limit.
 * Counts `[`/`{` minus `]`/`}` outside strings (honouring `\"` escapes) without parsing. Accepts decoded
 * text, or bytes in an ASCII-compatible encoding (UTF-8, latin-1, cp1252, ASCII — multi-byte UTF-8 never
 * contains ASCII bytes); never UTF-16 bytes. For valid JSON the result agrees with
 * {@link checkJsonLimits}; for invalid JSON it is only an estimate, and `JSON.parse` rejects the text anyway.
 */
export function scanJsonDepth(input: string | Uint8Array, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  if (typeof input === 'string') {
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (inString) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
        if (++depth > maxDepth) return depth;
      } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
    }
    return 0;
  }
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return depth;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return 0;
}

/**
 * Throws `WC_JSON_TOO_DEEP` when {@link scanJsonDepth} finds nesting beyond `maxDepth` (default 50); call
 * it before `JSON.parse`.
 */
export function checkJsonDepthBeforeParse(
  input: string | Uint8Array,
  maxDepth: number = DEFAULT_JSON_LIMITS.maxDepth,
): void {
  const depth = scanJsonDepth(input, maxDepth);
  if (depth !== 0) throw tooDeep(depth, maxDepth);
}

/**
 * Credential cleanup (reference §8.9) with precise name patterns (fixes §10.3 item 40, where `.*key.*`
 * and `.*auth.*` masked `author`, `keyword`, `monkey`, `primary_key`, ...).
 *
 * A key or header name (trimmed, case-insensitive) is a credential when:
 * 1. it equals a default name (`DEFAULT_CREDENTIAL_NAMES`) or a configured `fields` entry; or
 * 2. one of its word parts — split on `_ - . space` and camelCase boundaries — is a credential word
 *    (`CREDENTIAL_WORDS`: password, passwd, pwd, passphrase, secret, secrets, token, credential(s), auth,
 *    authorization). Plural `tokens` is deliberately not one: `max_tokens`, `tokens_used` are counts; or
 * 3. its word parts end with a known key suffix (`api key`, `private key`, `secret key`, `access key`,
 *    `signing key`, `encryption key`, `client key`) or the last part is `apikey`/`privatekey`/`accesskey`.
 *    A bare `key` suffix is not enough (`primary_key`, `idempotency_key`, `sort_key` are not secrets); or
 * 4. it is a header of the form `x-…-key`, `x-…-token`, `x-…-secret`.
 *
 * Payloads are walked recursively (depth ≤ 100, cycle-safe); a credential key whose value is an object or
 * array is recursed into rather than masked. Subtrees deeper than 100 levels and cycles are replaced by
 * markers (never passed on uncleaned). The input is never mutated.
 */
import type { CredentialCleanupConfig } from './schemas.js';

/** The replacement value in `mask` mode. */
export const CREDENTIAL_MASK = '***REDACTED***';

/** Deepest nesting walked; a deeper subtree is replaced by `TOO_DEEP_MARKER`. */
export const MAX_CLEANUP_DEPTH = 100;
/** Replaces a subtree nested deeper than `MAX_CLEANUP_DEPTH`. */
export const TOO_DEEP_MARKER = '[Max depth exceeded]';
/** Replaces a reference back to an ancestor (only possible for payloads not parsed from JSON). */
export const CIRCULAR_MARKER = '[Circular reference]';

/** Exact names that are always credentials (the reference's defaults, plus cookies). */
export const DEFAULT_CREDENTIAL_NAMES: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'api_key',
  'apikey',
  'access_token',
  'refresh_token',
  'authorization',
  'auth',
  'credential',
  'credentials',
  'private_key',
  'privatekey',
  'api_secret',
  'client_secret',
  'bearer',
  'x-api-key',
  'x-auth-token',
  'x-access-token',
  'session_id',
  'sessionid',
  'session_token',
  'csrf_token',
  'csrf',
  'oauth_token',
  'oauth_secret',
  'consumer_secret',
  'token_secret',
  'cookie',
  'set-cookie',
  'proxy-authorization',
];

/** Word parts that make a name a credential wherever they appear. */
export const CREDENTIAL_WORDS: readonly string[] = [
  'password',
  'passwords',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'credential',
  'credentials',
  'auth',
  'authorization',
];

const KEY_QUALIFIERS = new Set(['api', 'private', 'secret', 'access', 'signing', 'encryption', 'client']);
const COMPOUND_KEYS = new Set(['apikey', 'privatekey', 'accesskey', 'secretkey']);
const WORDS = new Set(CREDENTIAL_WORDS);

/** Splits `clientSecret`, `X-Api-Key`, `aws.secret_key` into lower-case words. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_.-]+/)
    .filter((word) => word !== '');
}

export type CredentialMatcher = (name: string) => boolean;

/** A matcher for the default rules plus `extraFields` (exact, case-insensitive). */
export function createCredentialMatcher(extraFields: readonly string[] = []): CredentialMatcher {
  const exact = new Set([...DEFAULT_CREDENTIAL_NAMES, ...extraFields.map((f) => f.trim().toLowerCase())]);
  const cache = new Map<string, boolean>();
  return (name) => {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    const result = isCredentialName(name, exact);
    if (cache.size < 10_000) cache.set(name, result);
    return result;
  };
}

function isCredentialName(name: string, exact: ReadonlySet<string>): boolean {
  const lower = name.trim().toLowerCase();
  if (exact.has(lower)) return true;
  if (/^x-[a-z0-9-]+-(key|token|secret)$/.test(lower)) return true;
  const words = nameWords(name.trim());
  if (words.some((word) => WORDS.has(word))) return true;
  const last = words[words.length - 1];
  if (last === undefined) return false;
  if (COMPOUND_KEYS.has(last)) return true;
  const qualifier = words[words.length - 2];
  return last === 'key' && qualifier !== undefined && KEY_QUALIFIERS.has(qualifier);
}

export interface CredentialCleaner {
  /** A cleaned copy of a JSON value (objects and arrays walked); primitives and Buffers returned as is. */
  cleanPayload(payload: unknown): unknown;
  /** A cleaned copy of a flat header map. */
  cleanHeaders(headers: Readonly<Record<string, string>>): Record<string, string>;
}

/** Builds a cleaner from a webhook's `credential_cleanup`. Disabled → both methods return the input. */
export function createCredentialCleaner(config: CredentialCleanupConfig): CredentialCleaner {
  if (!config.enabled) {
    return { cleanPayload: (payload) => payload, cleanHeaders: (headers) => ({ ...headers }) };
  }
  const isCredential = createCredentialMatcher(config.fields);
  const remove = config.mode === 'remove';

  // `ancestors` holds the objects on the path from the root to `value` (at most MAX_CLEANUP_DEPTH): a
  // reference to one of them is a cycle. A short array scan is cheaper than a WeakSet per payload.
  const walk = (value: unknown, depth: number, ancestors: object[]): unknown => {
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
    // Never hand on an uncleaned subtree: cut cycles and over-deep nesting instead.
    if (ancestors.includes(value)) return CIRCULAR_MARKER;
    if (depth >= MAX_CLEANUP_DEPTH) return TOO_DEEP_MARKER;
    ancestors.push(value);
    let result: unknown;
    if (Array.isArray(value)) {
      result = value.map((item) => walk(item, depth + 1, ancestors));
    } else {
      const copy: Record<string, unknown> = {};
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const item = record[key];
        if (!isCredential(key) || (item !== null && typeof item === 'object' && !Buffer.isBuffer(item))) {
          copy[key] = walk(item, depth + 1, ancestors);
        } else if (!remove) {
          copy[key] = CREDENTIAL_MASK;
        }
      }
      result = copy;
    }
    ancestors.pop();
    return result;
  };

  return {
    cleanPayload: (payload) => walk(payload, 0, []),
    cleanHeaders: (headers) => {
      const copy: Record<string, string> = {};
      const names = Object.keys(headers);
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        if (!isCredential(name)) copy[name] = headers[name] as string;
        else if (!remove) copy[name] = CREDENTIAL_MASK;
      }
      return copy;
    },
  };
}

/**
 * Path-segment validation for `POST /webhook/{webhook_id}` and `POST /webhook/{namespace}/{webhook_id}`
 * (reference spec §8.4 and §1.3). The same rules apply at config load: a `webhooks.json` key that fails
 * them could never be addressed, so the loader rejects it ({@link webhookIdProblem}).
 */
import { WebhookConnectError } from '../../shared/errors.js';

/** Longest accepted webhook id, in characters. */
export const MAX_WEBHOOK_ID_LENGTH = 64;

/** Ids that collide with the receiver's own routes or conventions (compared case-insensitively). */
export const RESERVED_WEBHOOK_IDS: ReadonlySet<string> = new Set([
  'stats',
  'health',
  'docs',
  'openapi.json',
  'redoc',
  'api',
  'admin',
  'root',
  'system',
  'internal',
  'favicon.ico',
  'robots.txt',
]);

const RESERVED_PREFIXES = ['__', '_', 'internal_', 'system_', 'admin_'] as const;
const RESERVED_SUFFIXES = ['_internal', '_system', '_admin'] as const;
const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/;
const SEPARATORS_ONLY = /^[-_]+$/;
const NAMESPACE_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Why `id` is not an acceptable webhook id, or `undefined` when it is. The reason is safe to send to
 * the client: it quotes the id only once the id is known to be a short run of `[A-Za-z0-9._-]`.
 *
 * Rules, in the order they are checked: non-empty after trimming; at most 64 characters; not a reserved
 * name ({@link RESERVED_WEBHOOK_IDS}, case-insensitive); no reserved prefix (`_`, `__`, `internal_`,
 * `system_`, `admin_`) or suffix (`_internal`, `_system`, `_admin`), case-insensitive; no `--` or `__`;
 * not only `-`/`_`; and finally `^[a-zA-Z0-9][a-zA-Z0-9_-]*$`.
 */
export function webhookIdProblem(id: string): string | undefined {
  if (id.trim() === '') return 'Webhook ID cannot be empty';
  if (id.length > MAX_WEBHOOK_ID_LENGTH) {
    return `Webhook ID too long: ${id.length} characters (max: ${MAX_WEBHOOK_ID_LENGTH})`;
  }
  const lower = id.toLowerCase();
  if (RESERVED_WEBHOOK_IDS.has(lower)) return `Webhook ID '${id}' is reserved and cannot be used`;
  for (const prefix of RESERVED_PREFIXES) {
    if (lower.startsWith(prefix)) return `Webhook ID cannot start with reserved prefix '${prefix}'`;
  }
  for (const suffix of RESERVED_SUFFIXES) {
    if (lower.endsWith(suffix)) return `Webhook ID cannot end with reserved suffix '${suffix}'`;
  }
  if (id.includes('--') || id.includes('__')) {
    return 'Webhook ID cannot contain consecutive underscores or hyphens';
  }
  if (SEPARATORS_ONLY.test(id)) return 'Webhook ID cannot consist only of hyphens and underscores';
  if (!ID_PATTERN.test(id)) {
    return 'Invalid webhook ID format: must start with a letter or digit and contain only letters, digits, underscores and hyphens';
  }
  return undefined;
}

/** True when `id` passes {@link webhookIdProblem}; for config loading and quick checks. */
export function isValidWebhookId(id: string): boolean {
  return webhookIdProblem(id) === undefined;
}

/**
 * Throws `WC_WEBHOOK_ID_INVALID` (400) with the specific reason as `detail` when `id` is not an
 * acceptable webhook id (rules in {@link webhookIdProblem}).
 */
export function validateWebhookId(id: string): void {
  const problem = webhookIdProblem(id);
  if (problem !== undefined) throw new WebhookConnectError('WC_WEBHOOK_ID_INVALID', { detail: problem });
}

/** True when `namespace` matches `^[a-zA-Z0-9_-]{1,64}$` (reference §1.3). */
export function isValidNamespace(namespace: string): boolean {
  return NAMESPACE_PATTERN.test(namespace);
}

/** Throws `WC_NAMESPACE_INVALID` (400, "Invalid namespace format") unless {@link isValidNamespace}. */
export function validateNamespace(namespace: string): void {
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new WebhookConnectError('WC_NAMESPACE_INVALID', { detail: 'Invalid namespace format' });
  }
}

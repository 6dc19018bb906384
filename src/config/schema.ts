/**
 * Schemas of webhooks.json entries and connections.json entries (reference spec §2). Authentication keys
 * (`hmac`, `basic_auth`, ...) are not listed here: their schemas come from the auth registry, and each
 * module's `module-config` schema from the module registry; the loader combines them.
 */
import { z } from 'zod';
import { chainConfigSchema, chainSchema, credentialCleanupSchema, retrySchema } from '../modules/schemas.js';
import { intLike, numberLike, port, requiredString } from '../shared/config-fields.js';
import { parseIpRange } from '../shared/ip.js';

const ipRangeString = z.string().refine((value) => parseIpRange(value) !== undefined, {
  message: 'expected an IP address or CIDR range',
});

export const rateLimitSchema = z
  .object({
    /** Requests allowed per window; 0 denies every request. Default 100. */
    max_requests: intLike().pipe(z.int().min(0)).default(100),
    /** Window length in seconds. Default 60. */
    window_seconds: numberLike().pipe(z.number().gt(0).max(86_400)).default(60),
  })
  .strict();
export type RateLimitConfig = z.output<typeof rateLimitSchema>;

/** The keys of a webhook entry other than authentication methods. */
export const webhookEntrySchema = z
  .object({
    /** Output module name. Required unless `chain` is present. */
    module: requiredString().optional(),
    /** Module settings, validated by the module's own schema. */
    'module-config': z.record(z.string(), z.unknown()).optional(),
    /** Name of a connections.json entry handed to the module (and inherited by chain items). */
    connection: requiredString().optional(),
    /** `json` (default) parses the body; `blob` passes the raw bytes. */
    data_type: z.enum(['json', 'blob']).default('json'),
    chain: chainSchema.optional(),
    'chain-config': chainConfigSchema.nullable().optional(),
    retry: retrySchema.optional(),
    credential_cleanup: credentialCleanupSchema.default({ enabled: true, mode: 'mask', fields: [] }),
    rate_limit: rateLimitSchema.optional(),
    /** JSON Schema the body must satisfy. Only local `$ref`s resolve; nothing is fetched. */
    json_schema: z.record(z.string(), z.unknown()).optional(),
    /** Proxies (IPs or CIDR) whose `X-Forwarded-For` is believed for this webhook. Default: `TRUSTED_PROXY_IPS`. */
    trusted_proxies: z.array(ipRangeString).optional(),
    /** Body size limit in bytes for this webhook; default `MAX_BODY_BYTES` (10 MiB). */
    max_body_bytes: intLike()
      .pipe(
        z
          .int()
          .min(1)
          .max(1024 * 1024 * 1024),
      )
      .optional(),
    // Reference keys read by individual modules (deprecated fallbacks), kept for compatibility.
    redis: z.record(z.string(), z.unknown()).optional(),
    topic: z.string().optional(),
    queue_name: z.string().optional(),
  })
  .strict()
  .refine((entry) => entry.module !== undefined || entry.chain !== undefined, {
    message: "needs either 'module' or 'chain'",
  });
export type WebhookEntry = z.output<typeof webhookEntrySchema>;

/** A connections.json entry: `type` plus type-specific keys that the modules using it validate. */
export const connectionEntrySchema = z
  .object({
    type: requiredString(),
    host: requiredString()
      .refine((host) => !/[\0\s;|&$`(){}<>]/.test(host), {
        message: 'contains characters not allowed in a host',
      })
      .optional(),
    port: port().optional(),
  })
  .passthrough();
export type ConnectionEntry = z.output<typeof connectionEntrySchema>;

/** Keys whose names mark a comment rather than configuration (`_comment`, `_notes`). */
export function isCommentKey(key: string): boolean {
  return key.startsWith('_');
}

/**
 * Schemas of the module-framework keys of a webhook entry: `retry`, `chain`, `chain-config` and
 * `credential_cleanup` (reference spec §5, §8.2, §8.9). Values out of range are config errors, not clamped.
 */
import { z } from 'zod';
import { boolLike, intLike, numberLike, requiredString } from '../shared/config-fields.js';

/** Webhook-level and chain-item `retry`. Delays are in seconds. */
export const retrySchema = z
  .object({
    /** Retry transient failures. Default false. */
    enabled: boolLike().default(false),
    /** Total attempts including the first, 1..20. Default 3. */
    max_attempts: intLike().pipe(z.int().min(1).max(20)).default(3),
    /** Delay before the second attempt, 0..60 s. Default 1. */
    initial_delay: numberLike().pipe(z.number().min(0).max(60)).default(1),
    /** Upper bound of the delay, 0..3600 s. Default 60. */
    max_delay: numberLike().pipe(z.number().min(0).max(3600)).default(60),
    /** Multiplier per attempt, 1..10. Default 2. */
    backoff_multiplier: numberLike().pipe(z.number().min(1).max(10)).default(2),
    /** Extra error names or codes (e.g. `ECONNREFUSED`) to treat as retryable. */
    retryable_errors: z.array(z.string()).optional(),
    /** Error names or codes never to retry; checked first. */
    non_retryable_errors: z.array(z.string()).optional(),
  })
  .strict()
  .refine((retry) => retry.max_delay >= retry.initial_delay, {
    message: 'max_delay must be at least initial_delay',
    path: ['max_delay'],
  });
export type RetryConfig = z.output<typeof retrySchema>;

export const credentialCleanupSchema = z
  .object({
    /** Mask credentials in what modules receive. Default true. */
    enabled: boolLike().default(true),
    /** `mask` replaces values with `***REDACTED***`; `remove` drops the keys. Default `mask`. */
    mode: z.enum(['mask', 'remove']).default('mask'),
    /** Extra field names (case-insensitive, exact) to treat as credentials. */
    fields: z.array(requiredString()).default([]),
  })
  .strict();
export type CredentialCleanupConfig = z.output<typeof credentialCleanupSchema>;

export const chainItemSchema = z.union([
  requiredString(),
  z
    .object({
      module: requiredString(),
      connection: requiredString().optional(),
      'module-config': z.record(z.string(), z.unknown()).optional(),
      retry: retrySchema.optional(),
      // Deprecated top-level fallbacks the reference tolerates on chain items.
      topic: z.string().optional(),
      queue_name: z.string().optional(),
      destination: z.string().optional(),
    })
    .strict(),
]);
export type ChainItemConfig = z.output<typeof chainItemSchema>;

export const chainSchema = z.array(chainItemSchema).min(1, 'chain needs at least one module').max(20);

export const chainConfigSchema = z
  .object({
    /** `sequential` (default) or `parallel`. */
    execution: z.enum(['sequential', 'parallel']).default('sequential'),
    /** Keep going after a failed item (sequential) / wait for all (parallel). Default true. */
    continue_on_error: boolLike().default(true),
    /** Overall timeout in seconds (parallel, and per item in sequential mode). Default 30. */
    timeout: numberLike().pipe(z.number().gt(0).max(3600)).default(30),
  })
  .strict();
export type ChainExecutionConfig = z.output<typeof chainConfigSchema>;

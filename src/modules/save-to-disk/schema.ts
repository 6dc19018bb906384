/** `module-config` of the `save_to_disk` module (reference §4.2, fixing §10.3 item 42). */
import { z } from 'zod';
import { boolLike, requiredString } from '../../shared/config-fields.js';

/** Tokens a `filename_pattern` may use. */
export const FILENAME_TOKENS = ['webhook_id', 'message_id', 'timestamp', 'date', 'time', 'ext'] as const;

export const saveToDiskConfigSchema = z.object({
  /** Directory to write to, relative to `base_dir` (URL-decoded; must stay inside it). Default `.`. */
  path: z.string().default('.'),
  /** Directory `path` is confined to. Default: the process working directory. */
  base_dir: requiredString().optional(),
  /**
   * File name with `{webhook_id}`, `{message_id}`, `{timestamp}` (ms since epoch), `{date}` (UTC
   * `YYYY-MM-DD`), `{time}` (UTC `HHmmss`), `{ext}` (`json`, or `bin` for blob payloads). Must not contain
   * path separators or `..`. Default `{message_id}.{ext}`.
   */
  filename_pattern: requiredString()
    .max(200)
    .default('{message_id}.{ext}')
    .refine((pattern) => !/[/\\\0]/.test(pattern) && !pattern.includes('..'), {
      message: 'must not contain path separators, NUL or ..',
    })
    .refine(
      (pattern) =>
        [...pattern.matchAll(/\{([^}]*)\}/g)].every((m) =>
          (FILENAME_TOKENS as readonly string[]).includes(m[1]!),
        ),
      { message: `unknown token; use ${FILENAME_TOKENS.map((t) => `{${t}}`).join(', ')}` },
    ),
  /** Write `{"headers": …, "payload": …}` instead of the payload alone. Default false. */
  include_headers: boolLike().default(false),
});
export type SaveToDiskConfig = z.output<typeof saveToDiskConfigSchema>;

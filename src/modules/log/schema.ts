/** `module-config` of the `log` module (reference §4.1). */
import { z } from 'zod';
import { boolLike } from '../../shared/config-fields.js';

export const logConfigSchema = z.object({
  /** Banner plus indented JSON instead of three compact lines. Default false. */
  pretty_print: boolLike().default(false),
  /** Replace values of sensitive-looking keys and headers with `[REDACTED]`. Default true. */
  redact_sensitive: boolLike().default(true),
});
export type LogConfig = z.output<typeof logConfigSchema>;

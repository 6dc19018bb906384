/** `module-config` of the `http_webhook` module (reference §4.6). */
import { z } from 'zod';
import { boolLike, numberLike, requiredString } from '../../shared/config-fields.js';

export const httpWebhookConfigSchema = z.object({
  /** Target URL, http or https (required). Checked against the SSRF guard at create and per connection. */
  url: requiredString(),
  /** `POST` (default), `PUT` or `PATCH` (case-insensitive). */
  method: z
    .preprocess(
      (value) => (typeof value === 'string' ? value.trim().toUpperCase() : value),
      z.enum(['POST', 'PUT', 'PATCH']),
    )
    .default('POST'),
  /** Extra request headers; override forwarded ones. Default none. */
  headers: z.record(z.string(), z.string()).default({}),
  /** Whole-request timeout in seconds, > 0 and ≤ 300. Default 30. */
  timeout: numberLike().pipe(z.number().gt(0).max(300)).default(30),
  /** Forward the webhook's (cleaned) request headers. Default false. */
  forward_headers: boolLike().default(false),
  /**
   * Only these forwarded header names (case-insensitive) are sent; an empty list forwards none. Default:
   * all forwardable headers. Does not filter `headers` (a deliberate change from the reference).
   */
  allowed_headers: z.array(z.string()).optional(),
  /**
   * Extra allow-list entries (host names, IPs, CIDRs) for this module, added to `OUTBOUND_ALLOWED_HOSTS`.
   * When set, the `url` host must also be one of them (as in the reference). Default none.
   */
  allowed_hosts: z.array(requiredString()).optional(),
});
export type HttpWebhookConfig = z.output<typeof httpWebhookConfigSchema>;

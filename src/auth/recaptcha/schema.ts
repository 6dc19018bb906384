import { z } from 'zod';
import { numberLike, requiredString } from '../../shared/config-fields.js';
import { httpUrl, seconds } from '../fields.js';

/** Google's verification endpoint (the default `verify_url`). */
export const GOOGLE_VERIFY_URL = 'https://www.google.com/recaptcha/api/siteverify';

/** `recaptcha`: a reCAPTCHA v2/v3 token verified with the provider. `{}` is a config error. */
export const recaptchaSchema = z.strictObject({
  /** The site's secret key. Required. */
  secret_key: requiredString(),
  /** `v3` (default, scored) or `v2` (checkbox/invisible). */
  version: z.enum(['v3', 'v2']).default('v3'),
  /** Where the token is: `header` (default) or `body` (JSON or form field). */
  token_source: z.enum(['header', 'body']).default('header'),
  /**
   * Header name (source `header`, default `X-Recaptcha-Token`) or body field (source `body`; default: the
   * first of `recaptcha_token`, `recaptcha`, `g-recaptcha-response`).
   */
  token_field: requiredString().optional(),
  /** Lowest accepted v3 score, 0.0–1.0. Default 0.5. */
  min_score: numberLike().pipe(z.number().min(0).max(1)).default(0.5),
  /** Required v3 `action`. Default: not checked. */
  expected_action: requiredString().optional(),
  /** Accepted `hostname`s of the solved challenge. Default: not checked. */
  expected_hostname: z.union([requiredString(), z.array(requiredString()).min(1)]).optional(),
  /** Verification endpoint. Default Google's `siteverify`; set for a compatible service or tests. */
  verify_url: httpUrl().default(GOOGLE_VERIFY_URL),
  /** Timeout of the verification call in seconds. Default 5. */
  timeout_seconds: seconds(1, 60).default(5),
});

export type RecaptchaConfig = z.infer<typeof recaptchaSchema>;

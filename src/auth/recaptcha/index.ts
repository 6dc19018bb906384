/**
 * `recaptcha`: verifies a reCAPTCHA token with the provider's `siteverify` endpoint (form POST of `secret`,
 * `response` and `remoteip`). `remoteip` is the client address the receiver resolved with
 * `trusted_proxies`, never a header an untrusted client could set. v3 answers must reach `min_score` (and
 * `expected_action` when set). Tokens are single-use at the provider, so answers are not cached.
 */
import { toList } from '../fields.js';
import { AUTH_OK, authFailure, type AuthMethod, type AuthRequest } from '../types.js';
import { recaptchaSchema, type RecaptchaConfig } from './schema.js';

const BODY_FIELDS = ['recaptcha_token', 'recaptcha', 'g-recaptcha-response'];

interface VerifyAnswer {
  readonly success?: unknown;
  readonly score?: unknown;
  readonly action?: unknown;
  readonly hostname?: unknown;
  readonly 'error-codes'?: unknown;
}

function tokenFromBody(request: AuthRequest, fields: readonly string[]): string | undefined {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const text = request.rawBody.toString('utf8');
  if (contentType === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(text);
    for (const field of fields) {
      const value = form.get(field);
      if (value !== null && value !== '') return value;
    }
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  for (const field of fields) {
    const value = (parsed as Record<string, unknown>)[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

export const recaptchaMethod: AuthMethod<RecaptchaConfig> = {
  type: 'recaptcha',
  schema: recaptchaSchema,
  credentialHeaders: (config) =>
    config.token_source === 'header' ? [(config.token_field ?? 'X-Recaptcha-Token').toLowerCase()] : [],
  secretFields: ['secret_key'],
  create(config, context) {
    const header = (config.token_field ?? 'X-Recaptcha-Token').toLowerCase();
    const bodyFields = config.token_field === undefined ? BODY_FIELDS : [config.token_field];
    const where =
      config.token_source === 'header'
        ? `header: ${config.token_field ?? 'X-Recaptcha-Token'}`
        : `body: ${bodyFields.join(' | ')}`;
    const hostnames = config.expected_hostname === undefined ? undefined : toList(config.expected_hostname);

    return async (request) => {
      const token =
        config.token_source === 'header' ? request.headers[header] : tokenFromBody(request, bodyFields);
      if (token === undefined || token.trim() === '') {
        return authFailure('WC_AUTH_MISSING', `Missing reCAPTCHA token (expected in ${where})`);
      }
      const form = new URLSearchParams({ secret: config.secret_key, response: token });
      if (request.clientIp !== undefined) form.set('remoteip', request.clientIp);
      let answer: VerifyAnswer;
      try {
        const response = await fetch(config.verify_url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
          signal: AbortSignal.timeout(config.timeout_seconds * 1000),
          redirect: 'error',
        });
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`HTTP ${response.status}`);
        }
        answer = (await response.json()) as VerifyAnswer;
        if (answer === null || typeof answer !== 'object') throw new Error('answer is not an object');
      } catch (error) {
        context.logger.warn({ webhook: context.webhookId, err: error }, 'reCAPTCHA verification call failed');
        return authFailure('WC_AUTH_UNAVAILABLE', 'reCAPTCHA verification could not be completed');
      }
      if (answer.success !== true) {
        const codes = Array.isArray(answer['error-codes'])
          ? answer['error-codes'].filter((code): code is string => typeof code === 'string')
          : [];
        const code = codes.includes('timeout-or-duplicate') ? 'WC_AUTH_EXPIRED' : 'WC_AUTH_MISMATCH';
        return authFailure(code, `reCAPTCHA verification failed: ${codes.join(', ') || 'unknown error'}`);
      }
      if (
        hostnames !== undefined &&
        !(typeof answer.hostname === 'string' && hostnames.includes(answer.hostname))
      ) {
        return authFailure('WC_AUTH_MISMATCH', 'reCAPTCHA hostname mismatch');
      }
      if (config.version === 'v3') {
        const score = typeof answer.score === 'number' ? answer.score : undefined;
        if (score === undefined || score < config.min_score) {
          return authFailure(
            'WC_AUTH_MISMATCH',
            `reCAPTCHA score ${score ?? 'missing'} below threshold ${config.min_score}`,
          );
        }
        if (config.expected_action !== undefined && answer.action !== config.expected_action) {
          return authFailure('WC_AUTH_MISMATCH', 'reCAPTCHA action mismatch');
        }
      }
      return AUTH_OK;
    };
  },
};

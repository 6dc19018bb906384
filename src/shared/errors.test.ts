import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOGUE, WebhookConnectError } from './errors.js';
import { ERRORS_DOC_PATH, renderErrorsDoc } from '../../scripts/errors-doc.js';

test('docs/errors.md is in step with the catalogue (run npm run docs:errors)', () => {
  assert.equal(readFileSync(ERRORS_DOC_PATH, 'utf8'), renderErrorsDoc());
});

test('every code is WC_-prefixed upper snake case with an HTTP status', () => {
  for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
    assert.match(code, /^WC_[A-Z0-9_]+$/);
    assert.ok(spec.status >= 400 && spec.status <= 599, code);
    assert.ok(spec.message.length > 0, code);
  }
});

test('an error without detail answers with the catalogue message and its code', () => {
  const error = new WebhookConnectError('WC_RATE_LIMITED', { retryAfterSeconds: 3 });
  assert.equal(error.status, 429);
  assert.deepEqual(error.toResponseBody(), { detail: 'Rate limit exceeded', code: 'WC_RATE_LIMITED' });
  assert.equal(error.retryAfterSeconds, 3);
});

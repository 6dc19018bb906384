import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWebhookConnectError } from '../shared/errors.js';
import { AuthGuard, FAILED_AUTH_LIMIT, FAILED_AUTH_WINDOW_MS } from './auth-guard.js';

test('an address is refused after FAILED_AUTH_LIMIT failures until the window ends; others are not', () => {
  let now = 1_700_000_000_000;
  const guard = new AuthGuard(() => now);
  for (let i = 0; i < FAILED_AUTH_LIMIT; i++) {
    assert.equal(guard.blockedFor('203.0.113.7'), 0, `failure ${i} still allowed`);
    guard.failed('203.0.113.7');
  }
  assert.equal(guard.blockedFor('203.0.113.7'), FAILED_AUTH_WINDOW_MS / 1000);
  assert.equal(guard.blockedFor('198.51.100.9'), 0, 'another address is not affected');
  assert.throws(
    () => guard.check('203.0.113.7'),
    (error) => isWebhookConnectError(error) && error.status === 429 && error.retryAfterSeconds === 60,
  );
  now += FAILED_AUTH_WINDOW_MS - 1500;
  assert.equal(guard.blockedFor('203.0.113.7'), 2, 'Retry-After counts down');
  now += 1500;
  assert.equal(guard.blockedFor('203.0.113.7'), 0, 'allowed again when the window has passed');
  guard.failed('203.0.113.7');
  assert.equal(guard.blockedFor('203.0.113.7'), 0, 'counting starts afresh');
  assert.doesNotThrow(() => guard.check(undefined));
});

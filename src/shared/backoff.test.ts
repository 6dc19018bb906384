import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs, sleep } from './backoff.js';

test('exponential growth is capped', () => {
  const options = { initialMs: 100, maxMs: 1000, multiplier: 2 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, options)),
    [100, 200, 400, 800, 1000, 1000],
  );
  assert.equal(backoffDelayMs(5000, options), 1000);
});

test('full jitter stays within [0, computed]', () => {
  assert.equal(backoffDelayMs(2, { initialMs: 100, maxMs: 1000, jitter: true, random: () => 0.5 }), 200);
  assert.equal(backoffDelayMs(2, { initialMs: 100, maxMs: 1000, jitter: true, random: () => 0 }), 0);
});

test('sleep rejects promptly with the abort reason', async () => {
  const controller = new AbortController();
  const pending = sleep(60_000, controller.signal);
  const reason = new Error('shutdown');
  controller.abort(reason);
  await assert.rejects(pending, (error) => error === reason);
  await assert.rejects(sleep(10, AbortSignal.abort(reason)), (error) => error === reason);
  await sleep(1);
});

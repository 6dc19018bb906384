import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineSignals } from './deadline-signals.js';

test('signals of one slot are shared and fire after the timeout, never before', async () => {
  const deadlines = new DeadlineSignals(80, 40);
  const started = Date.now();
  const first = deadlines.signal();
  const second = deadlines.signal();
  assert.equal(first, second, 'same slot, same signal');
  const keepAlive = setTimeout(() => {}, 5000); // the deadline timers are unref'd
  const fired = await new Promise<number>((resolve) =>
    first.addEventListener('abort', () => resolve(Date.now()), { once: true }),
  );
  clearTimeout(keepAlive);
  assert.ok(fired - started >= 80, `fired after ${fired - started} ms`);
  assert.ok(
    fired - started < 80 + 40 + 100,
    `at most one slot late (plus scheduling): ${fired - started} ms`,
  );
  assert.equal((first.reason as DOMException).name, 'TimeoutError');
  const later = deadlines.signal();
  assert.notEqual(later, first, 'a new slot gets a new signal');
  assert.equal(later.aborted, false);
});

test('abortAll aborts live signals and every later one with the reason', () => {
  const deadlines = new DeadlineSignals(60_000);
  const live = deadlines.signal();
  const reason = new Error('shutting down');
  deadlines.abortAll(reason);
  assert.equal(live.aborted, true);
  assert.equal(live.reason, reason);
  const after = deadlines.signal();
  assert.equal(after.aborted, true);
  assert.equal(after.reason, reason);
});

test('many listeners on one shared signal raise no leak warning', async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const signal = new DeadlineSignals(60_000).signal();
    for (let i = 0; i < 50; i++) signal.addEventListener('abort', () => {});
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(
    warnings.map((w) => w.message),
    [],
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PermanentDeliveryError, TransientDeliveryError } from '../shared/delivery-errors.js';
import { isRetryable, runWithRetry } from './retry.js';
import { retrySchema } from './schemas.js';

const retry = (extra: Record<string, unknown> = {}) =>
  retrySchema.parse({
    enabled: true,
    max_attempts: 4,
    initial_delay: 1,
    max_delay: 3,
    backoff_multiplier: 2,
    ...extra,
  });

function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

function failing(errors: unknown[]) {
  let calls = 0;
  return {
    calls: () => calls,
    attempt: async () => {
      const error = errors[calls++];
      if (error !== undefined) throw error;
      return 'done';
    },
  };
}

const signal = () => new AbortController().signal;

test('transient failures are retried with capped exponential backoff', async () => {
  const { delays, sleep } = recordingSleep();
  const run = failing([
    new TransientDeliveryError('a'),
    new TransientDeliveryError('b'),
    new TransientDeliveryError('c'),
  ]);
  const outcome = await runWithRetry(run.attempt, retry(), signal(), { sleep });
  assert.deepEqual(outcome, { ok: true, value: 'done', attempts: 4 });
  assert.deepEqual(delays, [1000, 2000, 3000]);
});

test('gives up after max_attempts with the last classified error', async () => {
  const { sleep } = recordingSleep();
  const errors = [1, 2, 3, 4, 5].map((n) =>
    Object.assign(new Error(`refused ${n}`), { code: 'ECONNREFUSED' }),
  );
  const run = failing(errors);
  const outcome = await runWithRetry(run.attempt, retry(), signal(), { sleep });
  assert.equal(run.calls(), 4);
  assert.ok(!outcome.ok && outcome.error instanceof TransientDeliveryError);
  assert.ok(
    !outcome.ok && outcome.error.message === 'refused 4' && outcome.attempts === 4 && !outcome.aborted,
  );
});

test('permanent and unknown failures are not retried; disabled retry runs once', async () => {
  for (const error of [new PermanentDeliveryError('bad'), new TypeError('bug')]) {
    const run = failing([error]);
    const outcome = await runWithRetry(run.attempt, retry(), signal(), recordingSleep());
    assert.equal(run.calls(), 1);
    assert.ok(!outcome.ok && outcome.error instanceof PermanentDeliveryError);
  }
  const run = failing([new TransientDeliveryError('x')]);
  const outcome = await runWithRetry(run.attempt, retry({ enabled: false }), signal(), recordingSleep());
  assert.equal(run.calls(), 1);
  assert.ok(!outcome.ok && outcome.error instanceof TransientDeliveryError);
});

test('retryable_errors and non_retryable_errors match name or code, non-retryable first', () => {
  const custom = Object.assign(new Error('x'), { name: 'QuotaError' });
  const refused = Object.assign(new Error('x'), { code: 'ECONNREFUSED' });
  assert.equal(isRetryable(custom, {}), false);
  assert.equal(isRetryable(custom, { retryable_errors: ['QuotaError'] }), true);
  assert.equal(isRetryable(refused, { non_retryable_errors: ['ECONNREFUSED'] }), false);
  assert.equal(
    isRetryable(new TransientDeliveryError('w', { cause: refused }), {
      retryable_errors: ['ECONNREFUSED'],
      non_retryable_errors: ['ECONNREFUSED'],
    }),
    false,
  );
  // substring matches do not count
  assert.equal(isRetryable(custom, { retryable_errors: ['Error'] }), false);
});

test('a listed non-retryable error is reported as permanent', async () => {
  const run = failing([Object.assign(new Error('x'), { code: 'ETIMEDOUT' })]);
  const outcome = await runWithRetry(run.attempt, retry({ non_retryable_errors: ['ETIMEDOUT'] }), signal());
  assert.equal(run.calls(), 1);
  assert.ok(!outcome.ok && outcome.error instanceof PermanentDeliveryError);
});

test('abort during backoff or attempt stops promptly and does not count the interrupted attempt', async () => {
  const controller = new AbortController();
  const run = failing([new TransientDeliveryError('a')]);
  const pending = runWithRetry(run.attempt, retry({ initial_delay: 60, max_delay: 60 }), controller.signal);
  setImmediate(() => controller.abort(new Error('shutdown')));
  const outcome = await pending;
  assert.ok(!outcome.ok && outcome.aborted);
  assert.equal(outcome.attempts, 1);

  const second = new AbortController();
  const hanging = runWithRetry(
    (s) =>
      new Promise((_resolve, reject) => s.addEventListener('abort', () => reject(s.reason), { once: true })),
    retry(),
    second.signal,
  );
  second.abort(new Error('shutdown'));
  const interrupted = await hanging;
  assert.ok(!interrupted.ok && interrupted.aborted && interrupted.attempts === 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWebhookConnectError } from '../shared/errors.js';
import { TaskPool } from './tasks.js';

// The pool's timers are unref'd (they must never keep a stopping server alive); in a test nothing else
// holds the event loop open, so the timing tests hold it themselves.
function holdEventLoop(): () => void {
  const timer = setInterval(() => {}, 1000);
  return () => clearInterval(timer);
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('at most maxConcurrent tasks run; the next start waits for a free slot (back-pressure)', async () => {
  const pool = new TaskPool({ maxConcurrent: 2, timeoutMs: 10_000, slotWaitMs: 5_000, onError: () => {} });
  const gates = [deferred(), deferred()];
  let running = 0;
  let peak = 0;
  const task = (gate: Promise<void>) => async () => {
    running++;
    peak = Math.max(peak, running);
    await gate;
    running--;
  };
  await pool.start(task(gates[0]!.promise));
  await pool.start(task(gates[1]!.promise));
  let thirdStarted = false;
  const third = pool.start(task(Promise.resolve())).then((started) => {
    thirdStarted = true;
    return started;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(thirdStarted, false, 'the third task waits while both slots are busy');
  assert.equal(pool.stats.waiting, 1);
  gates[0]!.resolve();
  await (
    await third
  ).done;
  assert.equal(thirdStarted, true);
  assert.equal(peak, 2);
  gates[1]!.resolve();
  await pool.drain(1000);
});

test('a start that cannot get a slot in time is refused with WC_OVERLOADED, nothing dropped silently', async () => {
  const pool = new TaskPool({ maxConcurrent: 1, timeoutMs: 10_000, slotWaitMs: 30, onError: () => {} });
  const gate = deferred();
  await pool.start(() => gate.promise);
  await assert.rejects(
    pool.start(async () => {}),
    (error: unknown) => {
      assert.ok(isWebhookConnectError(error));
      assert.equal(error.code, 'WC_OVERLOADED');
      assert.equal(error.status, 503);
      assert.ok((error.retryAfterSeconds ?? 0) > 0);
      return true;
    },
  );
  assert.equal(pool.stats.refused, 1);
  gate.resolve();
  await pool.drain(1000);
});

test('a task past its timeout is aborted and counted; errors go to onError', async () => {
  const release = holdEventLoop();
  const errors: unknown[] = [];
  const pool = new TaskPool({
    maxConcurrent: 1,
    timeoutMs: 30,
    slotWaitMs: 1000,
    onError: (e) => errors.push(e),
  });
  const { done } = await pool.start(
    (signal) =>
      new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  );
  await done;
  assert.equal(pool.stats.timedOut, 1);
  assert.equal(errors.length, 1);
  await pool.drain(1000);
  release();
});

test('drain refuses new tasks, lets running ones finish, and aborts what outlives the deadline', async () => {
  const release = holdEventLoop();
  const pool = new TaskPool({ maxConcurrent: 2, timeoutMs: 10_000, slotWaitMs: 1000, onError: () => {} });
  let finished = false;
  let aborted = false;
  await pool.start(async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    finished = true;
  });
  await pool.start(
    (signal) =>
      new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve();
        }),
      ),
  );
  await pool.drain(100);
  assert.equal(finished, true);
  assert.equal(aborted, true);
  await assert.rejects(
    pool.start(async () => {}),
    /shutting down/,
  );
  release();
});

import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WebhookConnectError } from '../../shared/errors.js';
import { rateLimitedError, SlidingWindowRateLimiter } from './index.js';

const open: SlidingWindowRateLimiter[] = [];
function limiter(
  options: ConstructorParameters<typeof SlidingWindowRateLimiter>[0] = {},
): SlidingWindowRateLimiter {
  const created = new SlidingWindowRateLimiter({ cleanupIntervalMs: 0, ...options });
  open.push(created);
  return created;
}
afterEach(() => {
  for (const l of open.splice(0)) l.close();
});

const T0 = 1_700_000_000_000;

test('a burst of max_requests passes, the next is refused with Retry-After, remaining counts down', () => {
  const rl = limiter();
  assert.deepEqual(rl.check('wh', 3, 10, T0), { allowed: true, retryAfterSeconds: 0, remaining: 2 });
  assert.deepEqual(rl.check('wh', 3, 10, T0 + 1), { allowed: true, retryAfterSeconds: 0, remaining: 1 });
  assert.deepEqual(rl.check('wh', 3, 10, T0 + 2), { allowed: true, retryAfterSeconds: 0, remaining: 0 });
  const denied = rl.check('wh', 3, 10, T0 + 1000);
  assert.equal(denied.allowed, false);
  assert.equal(denied.remaining, 0);
  // Allowed once the window has passed and the old burst's weight has decayed below the limit: 9 s + a bit.
  assert.equal(denied.retryAfterSeconds, 10);
  // Other keys are independent.
  assert.equal(rl.check('other', 3, 10, T0 + 1000).allowed, true);
});

test('after the window the key is allowed again (reference behaviour), before it is not', () => {
  const rl = limiter();
  for (let i = 0; i < 2; i++) assert.equal(rl.check('k', 2, 1, T0).allowed, true);
  assert.equal(rl.check('k', 2, 1, T0 + 500).allowed, false);
  assert.equal(rl.check('k', 2, 1, T0 + 999).allowed, false);
  assert.equal(rl.check('k', 2, 1, T0 + 1100).allowed, true);
  // Two full windows later the key starts from scratch.
  for (let i = 0; i < 2; i++) assert.equal(rl.check('k', 2, 1, T0 + 5000).allowed, true);
  assert.equal(rl.check('k', 2, 1, T0 + 5000).allowed, false);
});

test('Retry-After is honoured exactly: refused just before it, allowed at it', () => {
  const rl = limiter();
  for (let i = 0; i < 5; i++) rl.check('k', 5, 60, T0);
  const denied = rl.check('k', 5, 60, T0 + 30_000);
  assert.equal(denied.allowed, false);
  // next window starts at T0+60s with weight 1 → allowed strictly after T0+60s: 30 s from now → 31.
  assert.equal(denied.retryAfterSeconds, 31);
  assert.equal(rl.check('k', 5, 60, T0 + 60_000).allowed, false);
  assert.equal(rl.check('k', 5, 60, T0 + 30_000 + 31_000).allowed, true);
});

test('max_requests 0 always refuses', () => {
  const rl = limiter();
  for (const now of [T0, T0 + 1e9]) {
    assert.deepEqual(rl.check('k', 0, 60, now), { allowed: false, retryAfterSeconds: 60, remaining: 0 });
  }
  assert.equal(rl.check('k', 0, 0.2, T0).retryAfterSeconds, 1);
  assert.equal(rl.size, 0);
});

test('invalid limits are programming errors', () => {
  const rl = limiter();
  for (const [max, window] of [
    [1, 0],
    [1, -1],
    [1, Number.NaN],
    [1, Infinity],
    [-1, 60],
    [Number.NaN, 60],
  ] as const) {
    assert.throws(() => rl.check('k', max, window, T0), RangeError);
  }
});

test('changing the window of a key restarts its counting', () => {
  const rl = limiter();
  rl.check('k', 1, 60, T0);
  assert.equal(rl.check('k', 1, 60, T0 + 1).allowed, false);
  assert.equal(rl.check('k', 1, 30, T0 + 2).allowed, true);
});

test('the number of keys is bounded: beyond maxKeys the oldest key is evicted and forgotten', () => {
  const rl = limiter({ maxKeys: 3 });
  for (const key of ['a', 'b', 'c']) assert.equal(rl.check(key, 1, 60, T0).allowed, true);
  assert.equal(rl.check('d', 1, 60, T0 + 1).allowed, true); // evicts 'a'
  assert.equal(rl.size, 3);
  assert.equal(rl.check('b', 1, 60, T0 + 2).allowed, false, 'b kept its state');
  assert.equal(rl.check('c', 1, 60, T0 + 2).allowed, false, 'c kept its state');
  assert.equal(rl.check('a', 1, 60, T0 + 2).allowed, true, 'a was forgotten');
  for (let i = 0; i < 10_000; i++) rl.check(`ip-${i}`, 1, 60, T0 + 3);
  assert.equal(rl.size, 3);
});

test('a key whose window rolls over counts as recently active for eviction', () => {
  const rl = limiter({ maxKeys: 2 });
  rl.check('a', 1, 10, T0);
  rl.check('b', 1, 10, T0 + 5000);
  rl.check('a', 1, 10, T0 + 10_000); // a's window rolls: a moves behind b
  rl.check('c', 1, 10, T0 + 10_001); // evicts b, not a
  // a kept its previous-window count: with max 5 the estimate is ~0.9998 + 1, so 3 remain (a fresh key: 4).
  assert.deepEqual(rl.check('a', 5, 10, T0 + 10_002), { allowed: true, retryAfterSeconds: 0, remaining: 3 });
  // (checked before b: b's return as a new key evicts the then-oldest key)
  assert.equal(rl.check('b', 1, 10, T0 + 10_002).allowed, true, 'b was forgotten (its window had 3 s left)');
});

test('sweep forgets keys idle for two windows and keeps active ones', () => {
  const rl = limiter();
  rl.check('idle', 5, 10, T0);
  rl.check('busy', 5, 10, T0);
  rl.check('busy', 5, 10, T0 + 15_000);
  assert.equal(rl.sweep(T0 + 19_999), 0);
  assert.equal(rl.sweep(T0 + 20_000), 1);
  assert.equal(rl.size, 1);
  // busy kept its count: previous window 1 (weight ~1) + this one → 3 remain of 5, not 4.
  assert.deepEqual(rl.check('busy', 5, 10, T0 + 20_001), {
    allowed: true,
    retryAfterSeconds: 0,
    remaining: 3,
  });
  assert.deepEqual(rl.check('idle', 5, 10, T0 + 20_001), {
    allowed: true,
    retryAfterSeconds: 0,
    remaining: 4,
  });
});

test('the cleanup timer sweeps idle keys on its own; close() empties and is idempotent', async () => {
  let now = T0;
  const rl = limiter({ cleanupIntervalMs: 5, clock: () => now });
  rl.check('k', 1, 1);
  assert.equal(rl.size, 1);
  now = T0 + 10_000;
  const deadline = Date.now() + 5000;
  while (rl.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(rl.size, 0);
  rl.check('k', 1, 1);
  rl.close();
  rl.close();
  assert.equal(rl.size, 0);
});

test('the injected clock is used when no time is passed', () => {
  let now = T0;
  const rl = limiter({ clock: () => now });
  assert.equal(rl.check('k', 1, 60).allowed, true);
  assert.equal(rl.check('k', 1, 60).allowed, false);
  now += 121_000;
  assert.equal(rl.check('k', 1, 60).allowed, true);
});

test('property: the first window is exact and Retry-After is always sufficient', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 120 }),
      fc.array(
        fc.record({ gapMs: fc.integer({ min: 0, max: 150_000 }), burst: fc.integer({ min: 1, max: 30 }) }),
        {
          minLength: 1,
          maxLength: 30,
        },
      ),
      (max, windowSeconds, steps) => {
        const rl = new SlidingWindowRateLimiter({ cleanupIntervalMs: 0 });
        const windowMs = windowSeconds * 1000;
        let now = T0;
        let firstWindowAllowed = 0;
        const allowedAt: number[] = [];
        for (const step of steps) {
          now += step.gapMs;
          for (let i = 0; i < step.burst; i++) {
            const decision = rl.check('k', max, windowSeconds, now);
            if (decision.allowed) {
              allowedAt.push(now);
              if (now - T0 < windowMs) firstWindowAllowed++;
              assert.equal(decision.retryAfterSeconds, 0);
              assert.ok(decision.remaining >= 0 && decision.remaining < max);
            } else {
              assert.ok(Number.isInteger(decision.retryAfterSeconds) && decision.retryAfterSeconds >= 1);
              assert.ok(decision.retryAfterSeconds <= 2 * windowSeconds + 1);
              now += decision.retryAfterSeconds * 1000;
              const retry = rl.check('k', max, windowSeconds, now);
              assert.equal(retry.allowed, true, 'allowed after Retry-After');
              allowedAt.push(now);
            }
          }
        }
        const firstWindowRequests = allowedAt.filter((t) => t - T0 < windowMs).length;
        assert.equal(firstWindowAllowed, Math.min(firstWindowRequests, max));
        // Never more than twice the limit in any true sliding window.
        for (let i = 0; i < allowedAt.length; i++) {
          const end = allowedAt[i] as number;
          const inWindow = allowedAt.filter((t) => t > end - windowMs && t <= end).length;
          assert.ok(inWindow <= 2 * max, `${inWindow} in a window for max ${max}`);
        }
        rl.close();
      },
    ),
    { numRuns: 300 },
  );
});

test('a refusal becomes WC_RATE_LIMITED 429 with Retry-After', () => {
  const error = rateLimitedError({ allowed: false, retryAfterSeconds: 7, remaining: 0 });
  assert.ok(error instanceof WebhookConnectError);
  assert.equal(error.status, 429);
  assert.equal(error.code, 'WC_RATE_LIMITED');
  assert.equal(error.retryAfterSeconds, 7);
  assert.equal(error.detail, 'Rate limit exceeded. Retry after 7 seconds');
  const custom = rateLimitedError(
    { allowed: false, retryAfterSeconds: 0, remaining: 0 },
    'Rate limit exceeded. Limit: 120 requests per minute',
  );
  assert.equal(custom.retryAfterSeconds, 1);
  assert.equal(custom.detail, 'Rate limit exceeded. Limit: 120 requests per minute');
});

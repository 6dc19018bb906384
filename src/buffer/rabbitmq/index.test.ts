/**
 * The rabbitmq buffer against the real broker (WEBHOOK_CONNECT_RABBITMQ_URL, else RABBITMQ_URL, else
 * amqp://guest:guest@127.0.0.1:5672/). Every test uses its own random name prefix and deletes its
 * queues and exchange afterwards. Unreachable broker: one loud skip line, or a failure with
 * WEBHOOK_CONNECT_REQUIRE_SERVICES=1.
 *
 * Leases are unacked deliveries of the buffer object that made them, so "a new object keeps the old
 * one's leases" does not hold on this backend (see index.ts and docs/buffers.md): the conformance suite
 * runs its restart case with `leasesOnRestart: 'released'`, which asserts what holds instead (nothing
 * lost, the interrupted delivery back and counted).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import amqp from 'amqplib';
import { createTestClock, runBufferSuite, sampleMessage } from '../conformance.js';
import type { StoredMessage } from '../types.js';
import {
  createRabbitmqBuffer,
  rabbitmqUrlFromEnv,
  type RabbitmqBuffer,
  type RabbitmqBufferOptions,
} from './index.js';

const url = rabbitmqUrlFromEnv();
const required = process.env.WEBHOOK_CONNECT_REQUIRE_SERVICES === '1';

async function reachable(): Promise<string | null> {
  try {
    const conn = await amqp.connect(url, { timeout: 2000 });
    await conn.close();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const unreachable = await reachable();
const safeUrl = url.replace(/\/\/[^@/]*@/, '//');
if (unreachable !== null && !required) {
  console.warn(
    `SKIP rabbitmq: broker unreachable at ${safeUrl} (${unreachable}); rabbitmq buffer tests skipped`,
  );
}
const skip = unreachable !== null && !required ? `rabbitmq unreachable at ${safeUrl}` : false;

/** Buffers of the current test and the prefixes they used, deleted in `cleanup`. */
const opened: RabbitmqBuffer[] = [];

function prefix(): string {
  return `wctest_${randomBytes(5).toString('hex')}`;
}

async function open(options: RabbitmqBufferOptions & { prefix: string }): Promise<RabbitmqBuffer> {
  const buffer = await createRabbitmqBuffer({ url, ...options });
  opened.push(buffer);
  return buffer;
}

async function cleanup(): Promise<void> {
  const buffers = opened.splice(0);
  if (buffers.length === 0) return;
  for (const buffer of buffers) await buffer.close(); // idempotent: the suite closed its own already
  const queues = new Set(buffers.flatMap((b) => b.declaredNames().queues));
  const exchanges = new Set(buffers.flatMap((b) => b.declaredNames().exchanges));
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const queue of queues) await ch.deleteQueue(queue);
    for (const exchange of exchanges) await ch.deleteExchange(exchange);
    await ch.close();
  } finally {
    await conn.close();
  }
}

if (unreachable !== null && required) {
  test('rabbitmq is reachable (WEBHOOK_CONNECT_REQUIRE_SERVICES=1)', () => {
    assert.fail(`rabbitmq unreachable at ${safeUrl}: ${unreachable}`);
  });
} else if (skip !== false) {
  test('rabbitmq buffer', { skip }, () => undefined);
} else {
  let suitePrefix = prefix();
  runBufferSuite('rabbitmq', {
    create: async (options) => open({ ...options, prefix: (suitePrefix = prefix()) }),
    reopen: async (options) => open({ ...options, prefix: suitePrefix }),
    leasesOnRestart: 'released',
    crash: async (buffer) => (buffer as RabbitmqBuffer).dropConnection({ crash: true }),
    cleanup,
  });

  describe('rabbitmq buffer: beyond the conformance suite', () => {
    test('two buffer objects share messages, depth and channel state', async (t) => {
      t.after(cleanup);
      const clock = createTestClock();
      const shared = prefix();
      const a = await open({ now: clock.now, prefix: shared });
      const b = await open({ now: clock.now, prefix: shared });
      await a.ensureChannel('relay');
      await b.ensureChannel('relay');

      await a.setChannelState('relay', { token: 'ch_tok_1', old: null });
      assert.deepEqual(await b.getChannelState('relay'), { token: 'ch_tok_1', old: null });
      await b.setChannelState('relay', { token: 'ch_tok_2', old: { token: 'ch_tok_1', until: 5 } });
      assert.deepEqual(await a.getChannelState('relay'), {
        token: 'ch_tok_2',
        old: { token: 'ch_tok_1', until: 5 },
      });
      assert.deepEqual(
        await b.getChannelState('relay'),
        await a.getChannelState('relay'),
        'peeks do not consume',
      );

      const first = await a.append(sampleMessage('relay', { webhook_id: 'hook-a' }));
      const second = await a.append(sampleMessage('relay', { webhook_id: 'hook-b' }));
      assert.deepEqual(await b.webhookDepths('relay'), { 'hook-a': 1, 'hook-b': 1 }, 'b learns the webhooks');
      const leased = await b.lease('relay', 'c-on-b', 10);
      assert.deepEqual(
        leased.map((m) => m.id),
        [first.id, second.id],
      );
      assert.equal(await a.depth('relay'), 2, 'leased on b is still live for a');
      assert.deepEqual(await a.lease('relay', 'c-on-a', 10), [], 'a cannot take what b holds');
      assert.deepEqual(await b.ack('relay', 'c-on-b', [first.id, second.id]), [
        { id: first.id, outcome: 'ok' },
        { id: second.id, outcome: 'ok' },
      ]);
      assert.equal(await a.depth('relay'), 0);
    });

    test('the prefetch window is bounded: what lies beyond it goes to another instance at once', async (t) => {
      t.after(cleanup);
      const clock = createTestClock();
      const shared = prefix();
      const a = await open({ now: clock.now, prefix: shared, prefetch: 3 });
      const b = await open({ now: clock.now, prefix: shared, prefetch: 3 });
      await a.ensureChannel('relay');
      await b.ensureChannel('relay');
      const appended: string[] = [];
      for (let i = 0; i < 10; i++) appended.push((await a.append(sampleMessage('relay'))).id);
      const onA = await a.lease('relay', 'c-on-a', 1);
      assert.deepEqual(
        onA.map((m) => m.id),
        appended.slice(0, 1),
      );
      const onB = await b.lease('relay', 'c-on-b', 10);
      assert.equal(onB.length, 7, 'a holds at most its window of 3 (1 leased, 2 look-ahead)');
      assert.deepEqual(
        new Set([...onA, ...onB].map((m) => m.id)).size,
        8,
        'never the same message on both instances',
      );
    });

    test('look-ahead nobody leases is handed back, uncounted, to an instance whose connector waits', async (t) => {
      t.after(cleanup);
      const clock = createTestClock();
      const shared = prefix();
      const fast = { holdMs: 200, sweepIntervalMs: 50 };
      const a = await open({ now: clock.now, prefix: shared, ...fast });
      const b = await open({ now: clock.now, prefix: shared, ...fast });
      await a.ensureChannel('relay');
      await b.ensureChannel('relay');
      const appended: string[] = [];
      for (let i = 0; i < 5; i++) appended.push((await a.append(sampleMessage('relay'))).id);
      const [first] = await a.lease('relay', 'c-on-a', 1); // a's consumer takes the rest as look-ahead
      assert.equal(first?.id, appended[0]);
      const onB: StoredMessage[] = [];
      const started = Date.now();
      await waitFor(async () => {
        onB.push(...(await b.lease('relay', 'c-on-b', 10)));
        return onB.length === 4;
      });
      assert.ok(Date.now() - started < 3000, 'handed back within holdMs and a sweep');
      assert.deepEqual(new Set(onB.map((m) => m.id)), new Set(appended.slice(1)));
      assert.ok(
        onB.every((m) => m.delivery_count === 1),
        'sitting in a window is not a delivery attempt',
      );
      assert.deepEqual(await a.ack('relay', 'c-on-a', [appended[0] as string]), [
        { id: appended[0], outcome: 'ok' },
      ]);
      assert.equal(await b.depth('relay'), 4);
    });

    test('close hands leases back without counting an attempt', async (t) => {
      t.after(cleanup);
      const clock = createTestClock();
      const shared = prefix();
      const first = await open({ now: clock.now, prefix: shared });
      await first.ensureChannel('relay');
      const message = await first.append(sampleMessage('relay'));
      assert.equal((await first.lease('relay', 'c1', 1))[0]?.delivery_count, 1);
      await first.close();
      const second = await open({ now: clock.now, prefix: shared });
      await second.ensureChannel('relay');
      const [again] = await second.lease('relay', 'c1', 1);
      assert.equal(again?.id, message.id);
      assert.equal(again?.delivery_count, 1);
    });

    test('changing ttl_seconds re-declares without error and keeps the messages', async (t) => {
      t.after(cleanup);
      const clock = createTestClock();
      const shared = prefix();
      const a = await open({ now: clock.now, prefix: shared });
      await a.ensureChannel('relay', { ttl_seconds: 60, max_queue_size: 5 });
      const old = await a.append(sampleMessage('relay'));
      await a.ensureChannel('relay', { ttl_seconds: 3600, max_queue_size: 50 });
      const b = await open({ now: clock.now, prefix: shared }); // another instance with the new config
      await b.ensureChannel('relay', { ttl_seconds: 7200, ordered: true });
      const young = await a.append(sampleMessage('relay'));
      assert.equal(young.expires_at, clock.now() + 3_600_000, 'new messages take the new ttl');
      assert.equal(await b.depth('relay'), 2);
      const leased = await b.lease('relay', 'c1', 10);
      assert.deepEqual(
        leased.map((m) => [m.id, m.expires_at]),
        [[old.id, old.expires_at]],
        'a stored message keeps its expiry; ordered on b: one in flight',
      );
    });

    test('broker unreachable: append fails fast with WC_BUFFER_UNAVAILABLE, health is not ok', async (t) => {
      t.after(cleanup);
      const buffer = await open({
        prefix: prefix(),
        url: 'amqp://guest:guest@127.0.0.1:1/',
        connectTimeoutMs: 500,
      });
      await buffer.ensureChannel('relay'); // remembered, declared once the broker is reachable
      const health = await buffer.health();
      assert.equal(health.ok, false);
      assert.equal(health.backend, 'rabbitmq');
      const started = Date.now();
      await assert.rejects(buffer.append(sampleMessage('relay')), (error: unknown) => {
        const coded = error as { code?: string; status?: number; retryAfterSeconds?: number };
        assert.equal(coded.code, 'WC_BUFFER_UNAVAILABLE');
        assert.equal(coded.status, 503);
        assert.ok((coded.retryAfterSeconds ?? 0) > 0, 'carries Retry-After');
        return true;
      });
      assert.ok(Date.now() - started < 1000, 'fails fast, without waiting for a connect');
      await assert.rejects(buffer.lease('relay', 'c1', 1), { code: 'WC_BUFFER_UNAVAILABLE' });
      await assert.rejects(buffer.depth('relay'), { code: 'WC_BUFFER_UNAVAILABLE' });
    });

    test('a lost connection: unavailable meanwhile, reconnects by itself, the lease goes back', async (t) => {
      t.after(cleanup);
      const clock = createTestClock();
      const buffer = await open({ now: clock.now, prefix: prefix(), reconnectMinMs: 50 });
      await buffer.ensureChannel('relay');
      const message = await buffer.append(sampleMessage('relay'));
      await buffer.lease('relay', 'c1', 1);
      let woken = 0;
      buffer.watch('relay', () => woken++);
      await buffer.dropConnection();
      await waitFor(async () => !(await buffer.health()).ok);
      await waitFor(async () => (await buffer.health()).ok);
      assert.deepEqual(await buffer.ack('relay', 'c1', [message.id]), [
        { id: message.id, outcome: 'not_leased' },
      ]);
      const [again] = await buffer.lease('relay', 'c2', 1);
      assert.equal(again?.id, message.id);
      assert.equal(again?.delivery_count, 2);
      await buffer.append(sampleMessage('relay'));
      await waitFor(async () => woken > 0);
    });

    test('watch wakes another instance through the broker', async (t) => {
      t.after(cleanup);
      const shared = prefix();
      const a = await open({ prefix: shared });
      const b = await open({ prefix: shared });
      await a.ensureChannel('relay');
      await b.ensureChannel('relay');
      let woken = 0;
      const stop = b.watch('relay', () => woken++);
      await waitFor(async () => {
        await a.append(sampleMessage('relay'));
        return woken > 0;
      });
      stop();
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

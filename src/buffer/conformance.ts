/**
 * The buffer conformance suite: the same node:test cases for every backend, so "durable, leased,
 * dead-lettered" means the same thing on sqlite, redis and rabbitmq. A backend's `index.test.ts` calls
 * `runBufferSuite('sqlite', { create, reopen })`.
 *
 * Time-based cases drive the buffer's injected clock (`BufferOptions.now`) instead of sleeping. Each test
 * uses fresh random channel names and closes every buffer it opened.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { isWebhookConnectError } from '../shared/errors.js';
import type { BufferOptions, ChannelSettings, MessageBuffer, NewMessage, StoredMessage } from './types.js';

export interface BufferSuiteFactory {
  /** A new buffer on a fresh, empty store (temp file, random key prefix, random queue names). */
  create(options: BufferOptions): Promise<MessageBuffer>;
  /**
   * A new buffer object on the same store as the most recent `create`, as after a process restart.
   * Omitted by backends without a store (memory): the restart case is then skipped, visibly.
   */
  reopen?(options: BufferOptions): Promise<MessageBuffer>;
  /**
   * What a restart does to leases. `kept` (default): the new object honours the old object's leases.
   * `released`: leases live in the process that took them (rabbitmq: unacked deliveries), so a crash
   * returns them to the queue as a failed delivery; the restart case then asserts that outcome instead.
   * Nothing may be lost either way.
   */
  readonly leasesOnRestart?: 'kept' | 'released';
  /** Ends `buffer` as a crash would (its connection dropped, nothing settled); called before `reopen`. */
  crash?(buffer: MessageBuffer): Promise<void>;
  /** Runs after each test, once its buffers are closed (delete the temp file, ...). */
  cleanup?(): Promise<void>;
}

/** A controllable clock. Starts at 2026-01-01T00:00:00Z. */
export interface TestClock {
  readonly now: () => number;
  advance(ms: number): void;
}

interface Ctx {
  readonly clock: TestClock;
  readonly buffer: MessageBuffer;
  /** A second buffer object on the same store (only in tests that need `reopen`). */
  reopen(): Promise<MessageBuffer>;
  /** A fresh channel name declared on `buffer` with the given settings. */
  channel(settings?: Partial<ChannelSettings>): Promise<string>;
}

export function createTestClock(start = Date.UTC(2026, 0, 1)): TestClock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** A message for `channel` with a small JSON body. */
export function sampleMessage(channel: string, overrides: Partial<NewMessage> = {}): NewMessage {
  const payload = { n: Math.random() };
  return {
    channel,
    webhook_id: 'hook-a',
    payload,
    body: Buffer.from(JSON.stringify(payload)),
    content_type: 'application/json',
    headers: { 'content-type': 'application/json', 'x-test': 'yes' },
    query: {},
    ...overrides,
  };
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, status?: number): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(isWebhookConnectError(error), `expected a coded error, got ${String(error)}`);
    assert.equal(error.code, code);
    if (status !== undefined) assert.equal(error.status, status);
    return true;
  });
}

const ids = (messages: readonly StoredMessage[]) => messages.map((m) => m.id);

export function runBufferSuite(name: string, factory: BufferSuiteFactory): void {
  const restartSkip =
    factory.reopen === undefined
      ? `${name} has no store that outlives the buffer object: restart case not applicable`
      : false;

  function run(
    title: string,
    body: (ctx: Ctx) => Promise<void>,
    options: { skip?: string | false } = {},
  ): void {
    test(title, { skip: options.skip ?? false }, async () => {
      const clock = createTestClock();
      const opened: MessageBuffer[] = [];
      try {
        const buffer = await factory.create({ now: clock.now });
        opened.push(buffer);
        const declared: [string, Partial<ChannelSettings>][] = [];
        const ctx: Ctx = {
          clock,
          buffer,
          async reopen() {
            assert.ok(factory.reopen, 'reopen not supported');
            await factory.crash?.(buffer);
            const again = await factory.reopen({ now: clock.now });
            opened.push(again);
            for (const [channel, settings] of declared) await again.ensureChannel(channel, settings);
            return again;
          },
          async channel(settings = {}) {
            const channel = `conf-${randomBytes(5).toString('hex')}`;
            await buffer.ensureChannel(channel, settings);
            declared.push([channel, settings]);
            return channel;
          },
        };
        await body(ctx);
      } finally {
        for (const buffer of opened.reverse()) await buffer.close();
        await factory.cleanup?.();
      }
    });
  }

  describe(`buffer conformance: ${name}`, () => {
    run('append, lease, ack: fields round-trip, delivery_count counts, acks are per id', async (ctx) => {
      const { buffer } = ctx;
      const channel = await ctx.channel();
      const first = await buffer.append(
        sampleMessage(channel, { id: 'msg_00000000000000a1', query: { a: '1' }, metadata: { source: 't' } }),
      );
      const second = await buffer.append(sampleMessage(channel));
      assert.equal(first.id, 'msg_00000000000000a1');
      assert.match(second.id, /^msg_[0-9a-f]{16}$/);
      assert.equal(first.delivery_count, 0);
      assert.equal(first.received_at, ctx.clock.now());
      assert.equal(first.expires_at, ctx.clock.now() + 86_400_000);

      const leased = await buffer.lease(channel, 'c1', 10);
      assert.deepEqual(ids(leased), [first.id, second.id], 'oldest first');
      assert.deepEqual(
        leased.map((m) => m.delivery_count),
        [1, 1],
      );
      const got = leased[0];
      assert.ok(got);
      assert.deepEqual(got.query, { a: '1' });
      assert.deepEqual(got.metadata, { source: 't' });
      assert.deepEqual(got.headers, first.headers);
      assert.deepEqual(got.payload, first.payload);
      assert.equal(got.content_type, 'application/json');
      assert.deepEqual(await buffer.lease(channel, 'c2', 10), [], 'leased messages are not handed out twice');
      assert.deepEqual(await buffer.stats(channel), {
        available: 0,
        leased: 2,
        dead: 0,
        expired_total: 0,
        acked_total: 0,
      });

      assert.deepEqual(await buffer.ack(channel, 'c2', [first.id]), [{ id: first.id, outcome: 'not_owner' }]);
      assert.deepEqual(await buffer.ack(channel, 'c1', [first.id, second.id, 'msg_ffffffffffffffff']), [
        { id: first.id, outcome: 'ok' },
        { id: second.id, outcome: 'ok' },
        { id: 'msg_ffffffffffffffff', outcome: 'not_found' },
      ]);
      assert.deepEqual(await buffer.ack(channel, 'c1', [first.id]), [{ id: first.id, outcome: 'not_found' }]);
      const third = await buffer.append(sampleMessage(channel));
      assert.deepEqual(await buffer.ack(channel, 'c1', [third.id]), [
        { id: third.id, outcome: 'not_leased' },
      ]);
      const stats = await buffer.stats(channel);
      assert.equal(stats.acked_total, 2);
      assert.equal(stats.available, 1);
      assert.equal(await buffer.depth(channel), 1);
    });

    run('nack with retry: invisible until the backoff has passed, then redelivered', async (ctx) => {
      const { buffer, clock } = ctx;
      const channel = await ctx.channel({ retry_backoff: { initial: 10, max: 100 } });
      const message = await buffer.append(sampleMessage(channel));
      await buffer.lease(channel, 'c1', 1);
      assert.deepEqual(await buffer.nack(channel, 'c2', message.id, { retry: true }), {
        id: message.id,
        outcome: 'not_owner',
      });
      const nacked = await buffer.nack(channel, 'c1', message.id, { retry: true, reason: 'target 500' });
      assert.deepEqual(nacked, { id: message.id, outcome: 'ok', state: 'available' });
      assert.deepEqual(await buffer.lease(channel, 'c1', 1), [], 'not visible right after the nack');
      clock.advance(9_999);
      assert.deepEqual(await buffer.lease(channel, 'c1', 1), [], 'not visible before the backoff');
      clock.advance(1);
      const again = await buffer.lease(channel, 'c1', 1);
      assert.deepEqual(ids(again), [message.id]);
      assert.equal(again[0]?.delivery_count, 2);

      // Second failure: the backoff doubles; an explicit delay overrides it.
      await buffer.nack(channel, 'c1', message.id, { retry: true });
      clock.advance(19_999);
      assert.deepEqual(await buffer.lease(channel, 'c1', 1), []);
      clock.advance(1);
      assert.equal((await buffer.lease(channel, 'c1', 1)).length, 1);
      await buffer.nack(channel, 'c1', message.id, { retry: true, delaySeconds: 2 });
      clock.advance(1_999);
      assert.deepEqual(await buffer.lease(channel, 'c1', 1), []);
      clock.advance(1);
      assert.equal((await buffer.lease(channel, 'c1', 1))[0]?.delivery_count, 4);
    });

    run('nack without retry: dead letter with the given reason', async (ctx) => {
      const { buffer } = ctx;
      const channel = await ctx.channel();
      const message = await buffer.append(sampleMessage(channel));
      const plain = await buffer.append(sampleMessage(channel));
      await buffer.lease(channel, 'c1', 2);
      assert.deepEqual(
        await buffer.nack(channel, 'c1', message.id, { retry: false, reason: 'schema rejected' }),
        {
          id: message.id,
          outcome: 'ok',
          state: 'dead',
        },
      );
      await buffer.nack(channel, 'c1', plain.id, { retry: false });
      const dead = await buffer.listDeadLetters(channel);
      assert.deepEqual(
        dead.map((d) => [d.id, d.reason, d.delivery_count]),
        [
          [message.id, 'schema rejected', 1],
          [plain.id, 'rejected', 1],
        ],
      );
      assert.equal(dead[0]?.dead_at, ctx.clock.now());
      assert.equal(await buffer.depth(channel), 0);
      assert.equal((await buffer.stats(channel)).dead, 2);
      assert.deepEqual(await buffer.lease(channel, 'c1', 10), []);
      assert.deepEqual(await buffer.ack(channel, 'c1', [message.id]), [
        { id: message.id, outcome: 'not_found' },
      ]);
    });

    run(
      'lease expiry: redelivered with delivery_count + 1; the old holder can no longer ack',
      async (ctx) => {
        const { buffer, clock } = ctx;
        const channel = await ctx.channel({ retry_backoff: { initial: 0, max: 0 }, ack_timeout_seconds: 30 });
        const message = await buffer.append(sampleMessage(channel));
        const kept = await buffer.append(sampleMessage(channel));
        await buffer.lease(channel, 'c1', 1, 1_000);
        await buffer.lease(channel, 'c1', 1); // default lease: ack_timeout_seconds
        clock.advance(999);
        assert.deepEqual(await buffer.reclaimExpired(channel), { released: 0, deadLettered: 0, expired: 0 });
        assert.deepEqual(await buffer.extendLease(channel, 'c1', [kept.id, 'msg_ffffffffffffffff'], 60_000), [
          { id: kept.id, outcome: 'ok' },
          { id: 'msg_ffffffffffffffff', outcome: 'not_found' },
        ]);
        clock.advance(1);
        assert.deepEqual(await buffer.reclaimExpired(channel), { released: 1, deadLettered: 0, expired: 0 });
        clock.advance(40_000); // past kept's original deadline, within the extended one
        const again = await buffer.lease(channel, 'c2', 10);
        assert.deepEqual(ids(again), [message.id]);
        assert.equal(again[0]?.delivery_count, 2);
        assert.deepEqual(await buffer.ack(channel, 'c1', [message.id, kept.id]), [
          { id: message.id, outcome: 'not_owner' },
          { id: kept.id, outcome: 'ok' },
        ]);
        // lease() itself reclaims: no separate sweep needed for redelivery.
        clock.advance(30_000);
        assert.equal((await buffer.lease(channel, 'c3', 1))[0]?.delivery_count, 3);
      },
    );

    run('max_delivery_attempts: the last failed delivery dead-letters', async (ctx) => {
      const { buffer, clock } = ctx;
      const channel = await ctx.channel({ max_delivery_attempts: 2, retry_backoff: { initial: 0, max: 0 } });
      const nacked = await buffer.append(sampleMessage(channel));
      await buffer.lease(channel, 'c1', 1);
      assert.equal((await buffer.nack(channel, 'c1', nacked.id, { retry: true })).state, 'available');
      assert.equal((await buffer.lease(channel, 'c1', 1))[0]?.delivery_count, 2);
      const last = await buffer.nack(channel, 'c1', nacked.id, { retry: true, reason: 'HTTP 503' });
      assert.deepEqual(last, { id: nacked.id, outcome: 'ok', state: 'dead' });

      const abandoned = await buffer.append(sampleMessage(channel));
      await buffer.lease(channel, 'c1', 1, 1_000);
      clock.advance(1_000);
      assert.equal((await buffer.lease(channel, 'c1', 1, 1_000))[0]?.delivery_count, 2);
      clock.advance(1_000);
      assert.deepEqual(await buffer.reclaimExpired(channel), { released: 0, deadLettered: 1, expired: 0 });

      const dead = await buffer.listDeadLetters(channel);
      assert.deepEqual(
        dead.map((d) => [d.id, d.reason, d.delivery_count]),
        [
          [nacked.id, 'max_delivery_attempts', 2],
          [abandoned.id, 'max_delivery_attempts', 2],
        ],
      );
      assert.equal(dead[0]?.last_error, 'HTTP 503');
      assert.equal(await buffer.depth(channel), 0);
    });

    run('TTL expiry: dead letter `expired`, counted; never leased', async (ctx) => {
      const { buffer, clock } = ctx;
      const channel = await ctx.channel({ ttl_seconds: 60 });
      const old = await buffer.append(sampleMessage(channel));
      clock.advance(30_000);
      const young = await buffer.append(sampleMessage(channel));
      clock.advance(30_000);
      assert.deepEqual(
        ids(await buffer.lease(channel, 'c1', 10)),
        [young.id],
        'the expired one is not leased',
      );
      assert.deepEqual(
        (await buffer.listDeadLetters(channel)).map((d) => [d.id, d.reason]),
        [[old.id, 'expired']],
      );
      await buffer.ack(channel, 'c1', [young.id]);
      const third = await buffer.append(sampleMessage(channel));
      clock.advance(60_000);
      assert.deepEqual(await buffer.reclaimExpired(channel), { released: 0, deadLettered: 0, expired: 1 });
      const stats = await buffer.stats(channel);
      assert.equal(stats.expired_total, 2);
      assert.equal(stats.dead, 2);
      assert.equal(stats.acked_total, 1);
      assert.ok(
        (await buffer.listDeadLetters(channel)).some((d) => d.id === third.id && d.reason === 'expired'),
      );
    });

    run('max_queue_size: per (channel, webhook) queue, coded WC_QUEUE_FULL 503', async (ctx) => {
      const { buffer } = ctx;
      const channel = await ctx.channel({ max_queue_size: 2 });
      const first = await buffer.append(sampleMessage(channel));
      await buffer.append(sampleMessage(channel));
      await buffer.lease(channel, 'c1', 1);
      await rejectsWithCode(buffer.append(sampleMessage(channel)), 'WC_QUEUE_FULL', 503);
      await buffer.append(sampleMessage(channel, { webhook_id: 'hook-b' }));
      assert.equal(await buffer.depth(channel), 3, 'the refused message was not stored');
      await buffer.ack(channel, 'c1', [first.id]);
      await buffer.append(sampleMessage(channel));
      await rejectsWithCode(buffer.append(sampleMessage(channel)), 'WC_QUEUE_FULL');
      const [leased] = await buffer.lease(channel, 'c1', 1);
      assert.ok(leased);
      await buffer.nack(channel, 'c1', leased.id, { retry: false });
      await buffer.append(sampleMessage(channel)); // dead letters do not count
    });

    run('dead letters: list with limit/offset, replay resets the count, purge', async (ctx) => {
      const { buffer } = ctx;
      const channel = await ctx.channel({ retry_backoff: { initial: 0, max: 0 } });
      const messages: StoredMessage[] = [];
      for (let i = 0; i < 4; i++) messages.push(await buffer.append(sampleMessage(channel)));
      const [a, b, c, d] = messages.map((m) => m.id) as [string, string, string, string];
      await buffer.lease(channel, 'c1', 4);
      await buffer.nack(channel, 'c1', a, { retry: true });
      await buffer.lease(channel, 'c1', 4); // a again: delivery_count 2
      for (const id of [a, b, c, d]) await buffer.nack(channel, 'c1', id, { retry: false, reason: 'bad' });

      assert.deepEqual(ids(await buffer.listDeadLetters(channel, { limit: 2 })), [a, b]);
      assert.deepEqual(ids(await buffer.listDeadLetters(channel, { limit: 2, offset: 2 })), [c, d]);
      assert.equal((await buffer.listDeadLetters(channel)).find((m) => m.id === a)?.delivery_count, 2);

      assert.equal(await buffer.replayDeadLetters(channel, [a, 'msg_ffffffffffffffff']), 1);
      assert.equal(await buffer.depth(channel), 1);
      const replayed = await buffer.lease(channel, 'c2', 10);
      assert.deepEqual(ids(replayed), [a]);
      assert.equal(replayed[0]?.delivery_count, 1, 'count reset on replay');
      assert.equal(replayed[0]?.expires_at, ctx.clock.now() + 86_400_000, 'fresh TTL');

      assert.equal(await buffer.purgeDeadLetters(channel, [b]), 1);
      assert.deepEqual(ids(await buffer.listDeadLetters(channel)), [c, d]);
      assert.equal(await buffer.replayDeadLetters(channel), 2);
      await buffer.ack(channel, 'c2', [a]);
      const all = await buffer.lease(channel, 'c2', 10);
      assert.deepEqual(ids(all).sort(), [c, d].sort());
      for (const id of ids(all)) await buffer.nack(channel, 'c2', id, { retry: false });
      assert.equal(await buffer.purgeDeadLetters(channel), 2);
      assert.deepEqual(await buffer.listDeadLetters(channel), []);
      assert.equal((await buffer.stats(channel)).dead, 0);
    });

    run(
      'depth: per channel and per webhook; leased counts, dead does not; channels are separate',
      async (ctx) => {
        const { buffer } = ctx;
        const one = await ctx.channel();
        const two = await ctx.channel();
        for (let i = 0; i < 3; i++) await buffer.append(sampleMessage(one, { webhook_id: 'hook-a' }));
        for (let i = 0; i < 2; i++) await buffer.append(sampleMessage(one, { webhook_id: 'hook-b' }));
        await buffer.append(sampleMessage(two, { webhook_id: 'hook-a' }));
        assert.equal(await buffer.depth(one), 5);
        assert.equal(await buffer.depth(one, 'hook-a'), 3);
        assert.equal(await buffer.depth(one, 'hook-b'), 2);
        assert.equal(await buffer.depth(one, 'hook-none'), 0);
        assert.equal(await buffer.depth(two), 1);
        assert.deepEqual(await buffer.webhookDepths(one), { 'hook-a': 3, 'hook-b': 2 });

        const [first] = await buffer.lease(one, 'c1', 1);
        assert.ok(first);
        assert.equal(await buffer.depth(one), 5, 'leased is still live');
        await buffer.nack(one, 'c1', first.id, { retry: false });
        assert.equal(await buffer.depth(one), 4);
        assert.deepEqual(await buffer.webhookDepths(one), { 'hook-a': 2, 'hook-b': 2 });
        assert.deepEqual(await buffer.webhookDepths(two), { 'hook-a': 1 });
        assert.deepEqual(await buffer.lease(two, 'c1', 10).then((m) => m.length), 1);
      },
    );

    run('ordered channels: never two in flight, the head blocks while it waits for a retry', async (ctx) => {
      const { buffer, clock } = ctx;
      const channel = await ctx.channel({ ordered: true, retry_backoff: { initial: 5, max: 5 } });
      const messages: StoredMessage[] = [];
      for (let i = 0; i < 3; i++) {
        messages.push(
          await buffer.append(sampleMessage(channel, { webhook_id: i % 2 === 0 ? 'hook-a' : 'hook-b' })),
        );
      }
      const [a, b, c] = messages.map((m) => m.id) as [string, string, string];
      assert.deepEqual(ids(await buffer.lease(channel, 'c1', 10)), [a]);
      assert.deepEqual(await buffer.lease(channel, 'c2', 10), [], 'one in flight per channel, any consumer');
      await buffer.ack(channel, 'c1', [a]);
      assert.deepEqual(ids(await buffer.lease(channel, 'c2', 10)), [b]);
      await buffer.nack(channel, 'c2', b, { retry: true });
      assert.deepEqual(
        await buffer.lease(channel, 'c1', 10),
        [],
        'the head waits for its backoff; c is not overtaking',
      );
      clock.advance(5_000);
      assert.deepEqual(ids(await buffer.lease(channel, 'c1', 10)), [b]);
      await buffer.nack(channel, 'c1', b, { retry: false });
      assert.deepEqual(ids(await buffer.lease(channel, 'c1', 10)), [c], 'a dead head no longer blocks');
      assert.equal((await buffer.stats(channel)).leased, 1);
    });

    const leasesKept = (factory.leasesOnRestart ?? 'kept') === 'kept';
    run(
      leasesKept
        ? 'restart: a new buffer object on the same store loses nothing and keeps leases'
        : "restart: a new buffer object loses nothing; the crashed process's leases come back, counted",
      async (ctx) => {
        const { buffer } = ctx;
        const channel = await ctx.channel({ retry_backoff: { initial: 0, max: 0 } });
        const appended: StoredMessage[] = [];
        for (let i = 0; i < 5; i++) appended.push(await buffer.append(sampleMessage(channel)));
        const [leased] = await buffer.lease(channel, 'c1', 1);
        assert.ok(leased);
        const [dead] = await buffer.lease(channel, 'c1', 1);
        assert.ok(dead);
        await buffer.nack(channel, 'c1', dead.id, { retry: false, reason: 'gone' });
        const [acked] = await buffer.lease(channel, 'c1', 1);
        assert.ok(acked);
        await buffer.ack(channel, 'c1', [acked.id]);
        await buffer.setChannelState(channel, { token: 'ch_tok_new', old: { token: 'x', until: 1 } });

        const again = await ctx.reopen(); // the first object is not closed first: as after a crash
        assert.equal(await again.depth(channel), 3);
        const { acked_total: ackedTotal, ...counts } = await again.stats(channel);
        assert.deepEqual(
          counts,
          leasesKept
            ? { available: 2, leased: 1, dead: 1, expired_total: 0 }
            : { available: 3, leased: 0, dead: 1, expired_total: 0 },
        );
        // A backend whose counters live in the process (rabbitmq) starts again from 0.
        if (leasesKept) assert.equal(ackedTotal, 1);
        assert.deepEqual(await again.getChannelState(channel), {
          token: 'ch_tok_new',
          old: { token: 'x', until: 1 },
        });
        assert.deepEqual(
          (await again.listDeadLetters(channel)).map((d) => [d.id, d.reason]),
          [[dead.id, 'gone']],
        );
        const rest = await again.lease(channel, 'c2', 10);
        if (leasesKept) {
          assert.deepEqual(ids(rest), ids(appended.slice(3)), 'the lease survived: c2 gets only the others');
          assert.deepEqual(await again.ack(channel, 'c1', [leased.id]), [{ id: leased.id, outcome: 'ok' }]);
        } else {
          assert.deepEqual(new Set(ids(rest)), new Set([leased.id, ...ids(appended.slice(3))]));
          const returned = rest.find((m) => m.id === leased.id);
          assert.equal(returned?.delivery_count, 2, 'the delivery cut by the crash counts as an attempt');
          assert.notEqual((await again.ack(channel, 'c1', [leased.id]))[0]?.outcome, 'ok', 'c1 lost it');
        }
        const original = appended[3];
        assert.ok(original);
        const restored = rest.find((m) => m.id === original.id);
        assert.ok(restored);
        assert.deepEqual(restored.body, original.body);
        assert.deepEqual(restored.payload, original.payload);
        assert.equal(restored.expires_at, original.expires_at);
      },
      { skip: restartSkip },
    );

    run('raw body bytes round-trip exactly: binary, non-UTF-8, empty', async (ctx) => {
      const { buffer } = ctx;
      const channel = await ctx.channel();
      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const notUtf8 = Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x00, 0x0a]);
      const bodies = [everyByte, notUtf8, Buffer.alloc(0), Buffer.from('{"emoji":"😀"}\r\n', 'utf8')];
      const input = Buffer.from(everyByte);
      const stored: StoredMessage[] = [];
      stored.push(
        await buffer.append(
          sampleMessage(channel, {
            body: input,
            payload: null,
            content_type: null,
            headers: { 'content-type': 'application/octet-stream', 'x-sig': 'v1=abc' },
            query: { token: 'a b', empty: '' },
          }),
        ),
      );
      input.fill(0); // the buffer keeps its own copy
      for (const body of bodies.slice(1)) {
        stored.push(
          await buffer.append(sampleMessage(channel, { body, content_type: 'application/octet-stream' })),
        );
      }
      const leased = await buffer.lease(channel, 'c1', 10);
      assert.equal(leased.length, bodies.length);
      leased.forEach((message, i) => {
        assert.ok(Buffer.isBuffer(message.body), 'body is a Buffer');
        assert.ok(message.body.equals(bodies[i] ?? Buffer.alloc(1)), `body ${i} differs`);
      });
      assert.equal(leased[0]?.payload, null);
      assert.equal(leased[0]?.content_type, null);
      assert.deepEqual(leased[0]?.headers, { 'content-type': 'application/octet-stream', 'x-sig': 'v1=abc' });
      assert.deepEqual(leased[0]?.query, { token: 'a b', empty: '' });
      assert.ok(stored[0]?.body.equals(everyByte));
    });

    run('concurrent appends: every one resolves, is stored once and is durable', async (ctx) => {
      const { buffer } = ctx;
      const channel = await ctx.channel();
      const count = 300;
      const results = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          buffer.append(
            sampleMessage(channel, { webhook_id: i % 3 === 0 ? 'hook-a' : 'hook-b', metadata: { i } }),
          ),
        ),
      );
      assert.equal(new Set(ids(results)).size, count);
      assert.equal(await buffer.depth(channel), count);
      const reader = factory.reopen === undefined ? buffer : await ctx.reopen();
      assert.equal(await reader.depth(channel), count);
      assert.deepEqual(await reader.webhookDepths(channel), { 'hook-a': 100, 'hook-b': 200 });
      const leased = await reader.lease(channel, 'c1', count + 10);
      assert.equal(leased.length, count);
      assert.deepEqual(new Set(ids(leased)), new Set(ids(results)));
      const acks = await reader.ack(channel, 'c1', ids(leased));
      assert.ok(acks.every((r) => r.outcome === 'ok'));
      assert.equal((await reader.stats(channel)).acked_total, count);
    });

    run('release: a lost connection counts the attempt, a shutdown does not', async (ctx) => {
      const { buffer } = ctx;
      const channel = await ctx.channel({ retry_backoff: { initial: 0, max: 0 } });
      const a = await buffer.append(sampleMessage(channel));
      const b = await buffer.append(sampleMessage(channel));
      await buffer.lease(channel, 'c1', 2);
      assert.deepEqual(await buffer.release(channel, 'c1', { ids: [a.id], countAttempt: false }), [
        { id: a.id, outcome: 'ok', state: 'available' },
      ]);
      assert.deepEqual(await buffer.release(channel, 'c2'), [], 'c2 holds nothing');
      assert.deepEqual(await buffer.release(channel, 'c1'), [
        { id: b.id, outcome: 'ok', state: 'available' },
      ]);
      const again = await buffer.lease(channel, 'c2', 2);
      assert.deepEqual(
        again.map((m) => [m.id, m.delivery_count]),
        [
          [a.id, 1],
          [b.id, 2],
        ],
      );
    });

    run('channel state, unknown channels, duplicate ids, watch, health and close', async (ctx) => {
      const { buffer } = ctx;
      const channel = await ctx.channel();
      assert.equal(await buffer.getChannelState(channel), null);
      await buffer.setChannelState(channel, { token: 'a' });
      await buffer.setChannelState(channel, { token: 'b', n: [1, 2] });
      assert.deepEqual(await buffer.getChannelState(channel), { token: 'b', n: [1, 2] });

      await rejectsWithCode(buffer.append(sampleMessage('conf-undeclared')), 'WC_CHANNEL_NOT_FOUND', 404);
      await rejectsWithCode(buffer.lease('conf-undeclared', 'c1', 1), 'WC_CHANNEL_NOT_FOUND');
      await buffer.ensureChannel(channel, { max_queue_size: 5 }); // idempotent re-declare keeps messages
      const message = await buffer.append(sampleMessage(channel, { id: 'msg_00000000000000d1' }));
      await rejectsWithCode(
        buffer.append(sampleMessage(channel, { id: message.id })),
        'WC_MESSAGE_DUPLICATE',
        409,
      );
      assert.equal(await buffer.depth(channel), 1);
      await assert.rejects(buffer.ensureChannel(channel, { ttl_seconds: 0 }), /ttl_seconds/);

      let woken = 0;
      const stop = buffer.watch(channel, () => woken++);
      await buffer.append(sampleMessage(channel));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(woken >= 1, 'watchers hear about appends');
      stop();

      assert.deepEqual(await buffer.health(), { ok: true, backend: buffer.kind });
      await buffer.close();
      await buffer.close(); // idempotent
      assert.equal((await buffer.health()).ok, false);
      await rejectsWithCode(buffer.append(sampleMessage(channel)), 'WC_BUFFER_UNAVAILABLE', 503);
    });
  });
}

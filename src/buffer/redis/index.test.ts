import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { isWebhookConnectError } from '../../shared/errors.js';
import { createTestClock, runBufferSuite, sampleMessage } from '../conformance.js';
import type { MessageBuffer } from '../types.js';
import { createRedisBuffer, type RedisBufferOptions } from './index.js';

// A real Redis (TESTING.md): REDIS_URL / WEBHOOK_CONNECT_REDIS_URL, default the local one. A random key
// prefix per test; every key under it is deleted in cleanup.
const url = process.env.WEBHOOK_CONNECT_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const required = process.env.WEBHOOK_CONNECT_REQUIRE_SERVICES === '1';

async function reachable(): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const available = await reachable();
const skip = available ? false : `Redis not reachable at ${url}: redis buffer tests skipped`;
if (!available && !required) console.warn(`SKIP ${skip}`);

const admin = available ? new Redis(url) : undefined;
after(() => admin?.disconnect());

async function deleteKeys(prefix: string): Promise<void> {
  if (admin === undefined) return;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== '0');
}

const newPrefix = () => `wc-test-${randomBytes(6).toString('hex')}`;

if (!available && required) {
  test('redis buffer: Redis is required (WEBHOOK_CONNECT_REQUIRE_SERVICES=1)', () => {
    assert.fail(`Redis not reachable at ${url}`);
  });
} else if (!available) {
  test('buffer conformance: redis', { skip }, () => undefined);
} else {
  let prefix = newPrefix();
  runBufferSuite('redis', {
    async create(options) {
      prefix = newPrefix();
      return createRedisBuffer({ ...options, url, keyPrefix: prefix });
    },
    async reopen(options) {
      return createRedisBuffer({ ...options, url, keyPrefix: prefix });
    },
    async cleanup() {
      await deleteKeys(prefix);
    },
  });
}

/** A buffer on a fresh prefix, closed and its keys deleted after the test. */
async function open(
  t: { after: (fn: () => Promise<void>) => void },
  prefix: string,
  options: Partial<RedisBufferOptions> = {},
): Promise<MessageBuffer> {
  const buffer = await createRedisBuffer({ url, keyPrefix: prefix, ...options });
  t.after(async () => {
    await buffer.close();
    await deleteKeys(prefix);
  });
  return buffer;
}

test(
  'redis: concurrent appends from one instance, leased exactly once across two instances',
  { skip },
  async (t) => {
    const prefix = newPrefix();
    const a = await open(t, prefix);
    const b = await open(t, prefix);
    const channel = 'concurrency';
    await a.ensureChannel(channel, { max_queue_size: 100_000 });
    await b.ensureChannel(channel, { max_queue_size: 100_000 });
    const count = 2000;
    const appended = await Promise.all(
      Array.from({ length: count }, (_, i) => (i % 2 === 0 ? a : b).append(sampleMessage(channel))),
    );
    assert.equal(new Set(appended.map((m) => m.id)).size, count);
    assert.equal(await a.depth(channel), count);

    const seen = new Map<string, number>();
    async function consume(buffer: MessageBuffer, consumer: string): Promise<void> {
      for (;;) {
        const batch = await buffer.lease(channel, consumer, 7);
        if (batch.length === 0) return;
        for (const m of batch) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
        const acks = await buffer.ack(
          channel,
          consumer,
          batch.map((m) => m.id),
        );
        assert.ok(acks.every((r) => r.outcome === 'ok'));
      }
    }
    await Promise.all([consume(a, 'c1'), consume(b, 'c2'), consume(a, 'c3'), consume(b, 'c4')]);
    assert.equal(seen.size, count, 'every message was leased');
    assert.ok(
      [...seen.values()].every((n) => n === 1),
      'no message was leased twice',
    );
    assert.equal(await b.depth(channel), 0);
    assert.equal((await b.stats(channel)).acked_total, count);
  },
);

test('redis: watch wakes another instance (Pub/Sub hint); channel state is shared', { skip }, async (t) => {
  const prefix = newPrefix();
  const a = await open(t, prefix);
  const b = await open(t, prefix);
  await a.ensureChannel('hinted');
  await b.ensureChannel('hinted');
  let stop = () => undefined as void;
  const woken = new Promise<void>((resolve) => {
    stop = b.watch('hinted', resolve);
  });
  await new Promise((resolve) => setTimeout(resolve, 100)); // let the SUBSCRIBE reach Redis
  await a.append(sampleMessage('hinted'));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('instance B was not woken within 5 s')), 5000);
  });
  try {
    await Promise.race([woken, timeout]);
  } finally {
    clearTimeout(timer);
    stop();
  }
  await a.setChannelState('hinted', { token: 'rotated' });
  assert.deepEqual(await b.getChannelState('hinted'), { token: 'rotated' });
});

test('redis: time decisions use the injected clock, not Redis time', { skip }, async (t) => {
  const clock = createTestClock(Date.UTC(2040, 0, 1)); // far from Redis's own clock
  const buffer = await open(t, newPrefix(), { now: clock.now });
  await buffer.ensureChannel('clock', { ttl_seconds: 10, ack_timeout_seconds: 5 });
  const message = await buffer.append(sampleMessage('clock'));
  assert.equal((await buffer.lease('clock', 'c1', 1)).length, 1);
  clock.advance(4_999);
  assert.deepEqual(await buffer.reclaimExpired('clock'), { released: 0, deadLettered: 0, expired: 0 });
  clock.advance(1);
  assert.deepEqual(await buffer.reclaimExpired('clock'), { released: 1, deadLettered: 0, expired: 0 });
  clock.advance(5_000);
  assert.deepEqual(await buffer.reclaimExpired('clock'), { released: 0, deadLettered: 0, expired: 1 });
  assert.equal((await buffer.listDeadLetters('clock'))[0]?.id, message.id);
});

/** A free loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('redis: unreachable Redis → append fails fast with WC_BUFFER_UNAVAILABLE, health not ok', async (t) => {
  const port = await closedPort();
  const buffer = await createRedisBuffer({ url: `redis://127.0.0.1:${port}/0`, keyPrefix: newPrefix() });
  t.after(() => buffer.close());
  await buffer.ensureChannel('down');
  const started = Date.now();
  await assert.rejects(buffer.append(sampleMessage('down')), (error) => {
    assert.ok(isWebhookConnectError(error));
    assert.equal(error.code, 'WC_BUFFER_UNAVAILABLE');
    assert.equal(error.status, 503);
    assert.ok((error.retryAfterSeconds ?? 0) > 0, 'Retry-After is set');
    return true;
  });
  // Not a timing assertion: a generous bound that only catches a command waiting for a reconnect.
  assert.ok(Date.now() - started < 3000, 'append did not wait for Redis');
  await assert.rejects(buffer.lease('down', 'c1', 1), { code: 'WC_BUFFER_UNAVAILABLE' });
  const health = await buffer.health();
  assert.equal(health.ok, false);
  assert.equal(health.backend, 'redis');
});

/** A TCP proxy to the real Redis that can be cut and restored, to simulate an outage. */
async function startProxy(
  target: URL,
): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = netConnect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  };
  await listen();
  return {
    port,
    async cut() {
      const closed = new Promise<void>((resolve) => server?.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: listen,
  };
}

test('redis: Redis goes away and comes back → unavailable, then recovers by itself', { skip }, async (t) => {
  const proxy = await startProxy(new URL(url));
  const prefix = newPrefix();
  const buffer = await open(t, prefix, {
    url: `redis://127.0.0.1:${proxy.port}${new URL(url).pathname}`,
    reconnectMaxDelayMs: 100,
  });
  t.after(() => proxy.cut());
  await buffer.ensureChannel('outage');
  await buffer.append(sampleMessage('outage'));
  await proxy.cut();
  await assert.rejects(buffer.append(sampleMessage('outage')), { code: 'WC_BUFFER_UNAVAILABLE' });
  assert.equal((await buffer.health()).ok, false);
  await proxy.restore();
  for (let i = 0; i < 100 && !(await buffer.health()).ok; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(await buffer.health(), { ok: true, backend: 'redis' });
  await buffer.append(sampleMessage('outage'));
  assert.equal(await buffer.depth('outage'), 2, 'the message from before the outage is still there');
});

/** The stream entry ids a consumer holds in the PEL (oldest first) and their message ids. */
async function pelOf(prefix: string, channel: string, consumer: string): Promise<[string, string][]> {
  assert.ok(admin);
  const stream = `${prefix}:{${channel}}:stream`;
  const rows = (await admin.xpending(stream, 'relay', '-', '+', 1000, consumer)) as [string][];
  const out: [string, string][] = [];
  for (const [sid] of rows) {
    const entries = (await admin.xrange(stream, sid, sid)) as [string, string[]][];
    const fields = entries[0]?.[1] ?? [];
    out.push([sid, fields[fields.indexOf('id') + 1] ?? '']);
  }
  return out;
}

test('redis: keys of one channel, all under the prefix with the channel hash tag', { skip }, async (t) => {
  const prefix = newPrefix();
  const clock = createTestClock(Date.now());
  const buffer = await open(t, prefix, { now: clock.now });
  await buffer.ensureChannel('layout', { ttl_seconds: 60, retry_backoff: { initial: 1, max: 1 } });
  const messages = [];
  for (let i = 0; i < 5; i++) messages.push(await buffer.append(sampleMessage('layout')));
  const leased = await buffer.lease('layout', 'c1', 4);
  await buffer.ack('layout', 'c1', [leased[0]?.id ?? '']);
  await buffer.nack('layout', 'c1', leased[1]?.id ?? '', { retry: false, reason: 'bad' });
  await buffer.nack('layout', 'c1', leased[2]?.id ?? '', { retry: true, reason: 'HTTP 500' });
  await buffer.setChannelState('layout', { token: 't' });
  clock.advance(2_000);
  await buffer.reclaimExpired('layout');
  assert.ok(admin);
  const base = `${prefix}:{layout}:`;
  const keys = (await admin.keys(`${prefix}:*`)).sort();
  assert.deepEqual(
    keys,
    [
      'clock',
      'dead-ids',
      'dead-letters',
      'errors',
      'ids',
      'meta',
      'state',
      'stream',
      'ttl',
      'webhook-depths',
    ].map((name) => base + name),
    'the sorted-set layout (ready, delayed, leased, live, expiry, dead, m:<id>) is not used',
  );
  for (const key of keys) assert.equal(await admin.ttl(key), -1, `${key} has no Redis TTL`);
  assert.equal(await admin.type(`${base}stream`), 'stream');
  assert.equal(await admin.type(`${base}dead-letters`), 'stream');
  const groups = (await admin.xinfo('GROUPS', `${base}stream`)) as unknown[][];
  assert.equal(groups.length, 1);
  assert.equal(groups[0]?.[1], 'relay');
});

test(
  'redis: nothing is trimmed — the stream holds exactly the live messages after acks and dead letters',
  { skip },
  async (t) => {
    const prefix = newPrefix();
    const clock = createTestClock(Date.now());
    const buffer = await open(t, prefix, { now: clock.now });
    await buffer.ensureChannel('trim', { ttl_seconds: 600, retry_backoff: { initial: 0, max: 0 } });
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push((await buffer.append(sampleMessage('trim'))).id);
    const leased = await buffer.lease('trim', 'c1', 30, 5_000);
    await buffer.ack(
      'trim',
      'c1',
      leased.slice(0, 10).map((m) => m.id),
    );
    for (const m of leased.slice(10, 15)) await buffer.nack('trim', 'c1', m.id, { retry: false });
    for (const m of leased.slice(15, 20)) await buffer.nack('trim', 'c1', m.id, { retry: true });
    clock.advance(5_000); // leases 20..29 expire and are parked again
    await buffer.reclaimExpired('trim');
    await buffer.replayDeadLetters('trim', [leased[10]?.id ?? '']);

    assert.ok(admin);
    const stream = `${prefix}:{trim}:stream`;
    const depth = await buffer.depth('trim');
    assert.equal(depth, 40 - 10 - 5 + 1);
    assert.equal(await admin.xlen(stream), depth, 'XLEN is the live depth');
    const entries = (await admin.xrange(stream, '-', '+')) as [string, string[]][];
    const live = new Set(entries.map(([, f]) => f[f.indexOf('id') + 1]));
    const acked = new Set(leased.slice(0, 10).map((m) => m.id));
    const dead = new Set(leased.slice(11, 15).map((m) => m.id));
    assert.deepEqual(live, new Set(ids.filter((id) => !acked.has(id) && !dead.has(id))));
    assert.equal(await admin.xlen(`${prefix}:{trim}:dead-letters`), (await buffer.stats('trim')).dead);
    const info = (await admin.xinfo('STREAM', stream)) as unknown[];
    assert.equal(info[info.indexOf('entries-added') + 1], 41, '40 appends + 1 replay, none trimmed away');
  },
);

test('redis: two buffer objects sharing a channel never lease the same message', { skip }, async (t) => {
  const prefix = newPrefix();
  const clock = createTestClock(Date.now());
  const a = await open(t, prefix, { now: clock.now });
  const b = await open(t, prefix, { now: clock.now });
  const settings = { retry_backoff: { initial: 0, max: 0 }, max_delivery_attempts: 100 };
  await a.ensureChannel('shared', settings);
  await b.ensureChannel('shared', settings);
  const count = 300;
  for (let i = 0; i < count; i++) await (i % 2 === 0 ? a : b).append(sampleMessage('shared'));
  const acked = new Set<string>();
  for (let round = 0; acked.size < count && round < 100; round++) {
    // Four consumers on two instances lease at once; what one holds nobody else may get.
    const batches = await Promise.all([
      a.lease('shared', 'a1', 13, 1_000),
      b.lease('shared', 'b1', 11, 1_000),
      a.lease('shared', 'a2', 7, 1_000),
      b.lease('shared', 'b2', 17, 1_000),
    ]);
    const held = batches.flat().map((m) => m.id);
    assert.equal(new Set(held).size, held.length, `round ${round}: a message was leased twice`);
    for (const id of held) assert.ok(!acked.has(id), 'an acked message came back');
    // Some are acked, some nacked, the rest abandoned until their lease expires.
    const consumers = ['a1', 'b1', 'a2', 'b2'];
    await Promise.all(
      batches.map(async (batch, i) => {
        const consumer = consumers[i] ?? '';
        const buffer = i % 2 === 0 ? a : b;
        const toAck = batch.filter((_, j) => j % 3 === 0).map((m) => m.id);
        const results = await buffer.ack('shared', consumer, toAck);
        for (const r of results) {
          assert.equal(r.outcome, 'ok');
          acked.add(r.id);
        }
        for (const m of batch.filter((_, j) => j % 3 === 1)) {
          assert.equal((await buffer.nack('shared', consumer, m.id, { retry: true })).outcome, 'ok');
        }
      }),
    );
    clock.advance(1_000);
  }
  assert.equal(acked.size, count, 'every message was eventually acked once');
  assert.equal(await a.depth('shared'), 0);
  assert.equal((await b.stats('shared')).acked_total, count);
});

test(
  'redis: a lease survives a new buffer object and stays in the PEL of its consumer',
  { skip },
  async (t) => {
    const prefix = newPrefix();
    const clock = createTestClock(Date.now());
    const noBackoff = { retry_backoff: { initial: 0, max: 0 } };
    const first = await open(t, prefix, { now: clock.now });
    await first.ensureChannel('survive', noBackoff);
    const kept = await first.append(sampleMessage('survive'));
    const other = await first.append(sampleMessage('survive'));
    const [leased] = await first.lease('survive', 'c1', 1, 60_000);
    assert.equal(leased?.id, kept.id);
    await first.close(); // the process is gone; its lease is not

    const second = await open(t, prefix, { now: clock.now });
    await second.ensureChannel('survive', noBackoff);
    assert.deepEqual(
      (await pelOf(prefix, 'survive', 'c:c1')).map(([, id]) => id),
      [kept.id],
      'the lease is a PEL entry of consumer c:c1',
    );
    assert.deepEqual(
      (await second.lease('survive', 'c2', 10, 120_000)).map((m) => m.id),
      [other.id],
    );
    clock.advance(59_999);
    assert.deepEqual(await second.reclaimExpired('survive'), { released: 0, deadLettered: 0, expired: 0 });
    clock.advance(1);
    assert.deepEqual(await second.reclaimExpired('survive'), { released: 1, deadLettered: 0, expired: 0 });
    const again = await second.lease('survive', 'c3', 10);
    assert.deepEqual(
      again.map((m) => [m.id, m.delivery_count]),
      [[kept.id, 2]],
    );
  },
);

test(
  "redis: release returns exactly the consumer's PEL entries, then drops the consumer",
  { skip },
  async (t) => {
    const prefix = newPrefix();
    const buffer = await open(t, prefix);
    await buffer.ensureChannel('pel', { retry_backoff: { initial: 0, max: 0 } });
    for (let i = 0; i < 6; i++) await buffer.append(sampleMessage('pel'));
    await buffer.lease('pel', 'c1', 2);
    await buffer.lease('pel', 'c2', 2);
    await buffer.lease('pel', 'c1', 1);
    const held = await pelOf(prefix, 'pel', 'c:c1');
    assert.equal(held.length, 3);
    const released = await buffer.release('pel', 'c1');
    assert.deepEqual(
      released.map((r) => r.id),
      held.map(([, id]) => id),
    );
    assert.ok(released.every((r) => r.outcome === 'ok' && r.state === 'available'));
    assert.deepEqual(await pelOf(prefix, 'pel', 'c:c1'), []);
    assert.deepEqual(
      (await pelOf(prefix, 'pel', 'available')).map(([, id]) => id),
      held.map(([, id]) => id),
      'parked with the pseudo-consumer',
    );
    assert.ok(admin);
    const consumers = (await admin.xinfo('CONSUMERS', `${prefix}:{pel}:stream`, 'relay')) as unknown[][];
    assert.deepEqual(consumers.map((c) => c[1]).sort(), ['available', 'c:c2'], 'c:c1 is gone from the group');
    assert.equal((await buffer.stats('pel')).leased, 2);
  },
);

test(
  'redis: lease deadlines and backoffs are exact to the millisecond of the injected clock',
  { skip },
  async (t) => {
    const clock = createTestClock(Date.UTC(2030, 5, 1));
    const buffer = await open(t, newPrefix(), { now: clock.now });
    await buffer.ensureChannel('exact', {
      retry_backoff: { initial: 0, max: 0 },
      max_delivery_attempts: 1000,
    });
    await buffer.append(sampleMessage('exact'));
    for (let i = 0; i < 150; i++) {
      const leaseMs = 1_000 + (i % 13);
      assert.equal((await buffer.lease('exact', 'c1', 1, leaseMs)).length, 1, `iteration ${i}`);
      clock.advance(leaseMs - 1);
      assert.deepEqual(await buffer.lease('exact', 'c2', 1), [], `iteration ${i}: not expired 1 ms early`);
      clock.advance(1);
      assert.equal((await buffer.reclaimExpired('exact')).released, 1, `iteration ${i}: expired on time`);
    }
  },
);

test('redis: a buffer clock the PEL cannot store is refused, not misread', { skip }, async (t) => {
  const buffer = await open(t, newPrefix(), { now: () => Date.UTC(1999, 0, 1) });
  await buffer.ensureChannel('old-clock');
  await buffer.append(sampleMessage('old-clock'));
  await assert.rejects(buffer.lease('old-clock', 'c1', 1), { code: 'WC_BUFFER_UNAVAILABLE' });
  assert.equal(await buffer.depth('old-clock'), 1);
});

test('redis: scripts are reloaded after Redis lost its script cache (NOSCRIPT)', { skip }, async (t) => {
  const buffer = await open(t, newPrefix());
  await buffer.ensureChannel('noscript');
  await buffer.append(sampleMessage('noscript'));
  assert.ok(admin);
  await admin.script('FLUSH'); // as after a Redis restart
  await buffer.append(sampleMessage('noscript'));
  assert.equal((await buffer.lease('noscript', 'c1', 10)).length, 2);
});

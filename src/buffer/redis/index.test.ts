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

test(
  'redis: nothing is trimmed and keys live under the prefix with the channel hash tag',
  { skip },
  async (t) => {
    const prefix = newPrefix();
    const buffer = await open(t, prefix);
    await buffer.ensureChannel('layout');
    const message = await buffer.append(sampleMessage('layout'));
    assert.ok(admin);
    const keys = (await admin.keys(`${prefix}:*`)).sort();
    assert.deepEqual(keys, [
      `${prefix}:{layout}:depths`,
      `${prefix}:{layout}:expiry`,
      `${prefix}:{layout}:live`,
      `${prefix}:{layout}:m:${message.id}`,
      `${prefix}:{layout}:meta`,
      `${prefix}:{layout}:ready`,
    ]);
    for (const key of keys) assert.equal(await admin.ttl(key), -1, `${key} has no Redis TTL`);
  },
);

test('redis: scripts are reloaded after Redis lost its script cache (NOSCRIPT)', { skip }, async (t) => {
  const buffer = await open(t, newPrefix());
  await buffer.ensureChannel('noscript');
  await buffer.append(sampleMessage('noscript'));
  assert.ok(admin);
  await admin.script('FLUSH'); // as after a Redis restart
  await buffer.append(sampleMessage('noscript'));
  assert.equal((await buffer.lease('noscript', 'c1', 10)).length, 2);
});

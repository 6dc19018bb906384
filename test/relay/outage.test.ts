/**
 * Buffer outage with the real Redis and RabbitMQ: the receiver reaches its buffer through a TCP proxy that
 * the test cuts and restores (stopping the machine's shared service would disturb other test files).
 * While the buffer is unreachable, `webhook_connect` posts answer 503 + Retry-After (never 200), `/health`
 * and the Webhook Connect admin health say unhealthy; when it returns, posts are accepted again by
 * themselves and every message accepted before the outage is still delivered.
 *
 * Services unreachable → the backend's case skips with one line, unless WEBHOOK_CONNECT_REQUIRE_SERVICES=1.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import type { RabbitmqBuffer } from '../../src/buffer/rabbitmq/index.js';
import { createBuffer } from '../../src/buffer/registry.js';
import type { MessageBuffer } from '../../src/buffer/types.js';
import { CuttableProxy, reachable } from '../harness/cuttable-proxy.js';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';
import { ADMIN, auth, http, post, relayWebhook, waitFor, WsClient, type HttpAnswer } from './helpers.js';

const required = process.env.WEBHOOK_CONNECT_REQUIRE_SERVICES === '1';
const SERVICES = {
  redis: { host: '127.0.0.1', port: 6379 },
  rabbitmq: { host: '127.0.0.1', port: 5672 },
} as const;

let receiver: TestReceiver | undefined;
let proxy: CuttableProxy | undefined;
let client: WsClient | undefined;
let removeLeftovers: (() => Promise<void>) | undefined;
afterEach(async () => {
  await client?.close();
  await receiver?.stop();
  await proxy?.cut();
  await removeLeftovers?.();
  receiver = undefined;
  proxy = undefined;
  client = undefined;
  removeLeftovers = undefined;
});

/** Deletes what the test created in the real service (keys under the prefix / declared queues). */
function leftovers(backend: 'redis' | 'rabbitmq', prefix: string, buffer: () => MessageBuffer | undefined) {
  return async () => {
    if (backend === 'redis') {
      const redis = new Redis(`redis://${SERVICES.redis.host}:${SERVICES.redis.port}/0`, {
        lazyConnect: true,
      });
      await redis.connect();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      return;
    }
    const names = (buffer() as RabbitmqBuffer | undefined)?.declaredNames();
    if (names === undefined) return;
    const connection = await amqp.connect(
      `amqp://guest:guest@${SERVICES.rabbitmq.host}:${SERVICES.rabbitmq.port}/`,
    );
    const channel = await connection.createChannel();
    for (const queue of names.queues) await channel.deleteQueue(queue);
    for (const exchange of names.exchanges) await channel.deleteExchange(exchange);
    await connection.close();
  };
}

for (const backend of ['redis', 'rabbitmq'] as const) {
  test(`${backend} down: 503 + Retry-After and unhealthy, then service resumes by itself`, async (t) => {
    if (!(await reachable(SERVICES[backend]))) {
      const reason = `${backend} at ${SERVICES[backend].host}:${SERVICES[backend].port} is unreachable`;
      if (required) throw new Error(`WEBHOOK_CONNECT_REQUIRE_SERVICES=1: ${reason}`);
      console.warn(`SKIPPED buffer outage test (${backend}): ${reason}`);
      t.skip(reason);
      return;
    }
    proxy = new CuttableProxy(SERVICES[backend]);
    await proxy.open();
    const prefix = `wc_outage_${randomBytes(4).toString('hex')}`;
    const url =
      backend === 'redis'
        ? `redis://127.0.0.1:${proxy.port}/0`
        : `amqp://guest:guest@127.0.0.1:${proxy.port}/`;
    const channel = `outage-${randomBytes(3).toString('hex')}`;
    let created: MessageBuffer | undefined;
    removeLeftovers = leftovers(backend, prefix, () => created);
    receiver = await startTestReceiver({
      webhooks: { relayed: relayWebhook(channel) },
      env: { WEBHOOK_CONNECT_ADMIN_TOKEN: ADMIN, WEBHOOK_CONNECT_BUFFER: backend },
      relay: {
        createBuffer: () =>
          createBuffer(
            backend,
            backend === 'redis' ? { redis: { url, keyPrefix: prefix } } : { rabbitmq: { url, prefix } },
          ),
      },
    });
    const base = await receiver.listen();
    const send = (n: number) => post(`${base}/webhook/relayed`, JSON.stringify({ n }));

    assert.equal((await send(1)).status, 200);

    await proxy.cut();
    let refused: HttpAnswer | undefined;
    await waitFor(
      async () => {
        const answer = await send(2);
        if (answer.status === 503) refused = answer;
        else assert.notEqual(answer.status, 200, 'a post during the outage was answered 200');
        return refused !== undefined;
      },
      'a 503 while the buffer is unreachable',
      30_000,
    );
    assert.equal(refused?.json().code, 'WC_BUFFER_UNAVAILABLE');
    assert.ok(Number(refused?.headers['retry-after']) >= 1);
    const health = await http('GET', `${base}/health`);
    assert.equal(health.status, 503);
    assert.equal(health.json().components.webhook_connect, 'unhealthy');
    const adminHealth = await http('GET', `${base}/admin/webhook-connect/health`, { headers: auth(ADMIN) });
    assert.equal(adminHealth.json().status, 'unhealthy');

    await proxy.open(); // the same port: the buffer must reconnect by itself
    await waitFor(async () => (await send(3)).status === 200, 'posts accepted again', 60_000);
    await waitFor(async () => (await http('GET', `${base}/health`)).status === 200, 'healthy again', 30_000);

    // Nothing accepted was lost: n=1 (before the outage) and n=3 (after) arrive; n=2 was never stored.
    client = new WsClient(base, channel, { autoAck: true });
    await client.opened;
    const seen = () => new Set(client!.webhooks.map((frame) => (frame.payload as { n: number }).n));
    await waitFor(() => seen().has(1) && seen().has(3), 'the accepted messages to be delivered', 30_000);
    assert.equal(seen().has(2), false);
  });
}

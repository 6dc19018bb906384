/* eslint-disable @typescript-eslint/no-explicit-any -- wire frames are read as loose JSON in tests */
/**
 * Buffer outage and recovery, the admin API, and compatibility with a client that speaks only the
 * reference's frames. The outage is simulated by a switch in front of the real buffer (the real-service
 * outage of Redis and RabbitMQ is covered by their backend owners with the same relay code).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferUnavailableError } from '../../src/buffer/errors.js';
import { createSqliteBuffer } from '../../src/buffer/sqlite/index.js';
import type { MessageBuffer } from '../../src/buffer/types.js';
import type { TestReceiver } from '../harness/receiver.js';
import {
  ADMIN,
  ackUrl,
  auth,
  http,
  post,
  SseClient,
  startRelay,
  TOKEN,
  waitFor,
  WsClient,
} from './helpers.js';

const open: TestReceiver[] = [];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.stop();
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** The real sqlite buffer behind a switch: while `down`, every operation fails as an unreachable store. */
function switchable(): { buffer: MessageBuffer; setDown(down: boolean): void } {
  const dir = mkdtempSync(join(tmpdir(), 'wc-switch-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const real = createSqliteBuffer({ path: join(dir, 'b.sqlite') });
  let down = false;
  const buffer = new Proxy(real, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const name = String(property);
      return (...args: unknown[]) => {
        if (down && name === 'health')
          return Promise.resolve({ ok: false, backend: 'sqlite', detail: 'down' });
        if (down && !['watch', 'close', 'ensureChannel'].includes(name))
          return Promise.reject(bufferUnavailableError(new Error('switched off')));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { buffer, setDown: (value) => (down = value) };
}

const admin = { authorization: `Bearer ${ADMIN}` };

test('buffer down: posts get 503 + Retry-After, /health and admin health unhealthy; recovery by itself', async () => {
  const store = switchable();
  const { receiver, url } = await startRelay({}, { relay: { createBuffer: async () => store.buffer } });
  open.push(receiver);
  const client = new WsClient(url, 'ch', { autoAck: true });
  cleanups.push(() => client.close());
  await waitFor(() => client.connectionId !== undefined, 'connected');
  assert.equal((await post(`${url}/webhook/hook`, '{"n":0}')).status, 200);
  await waitFor(() => client.webhooks.length === 1, 'first delivery');

  store.setDown(true);
  const refused = await post(`${url}/webhook/hook`, '{"n":1}');
  assert.equal(refused.status, 503);
  assert.equal(refused.json().code, 'WC_BUFFER_UNAVAILABLE');
  assert.ok(Number(refused.headers['retry-after']) >= 1);
  const health = await http('GET', `${url}/health`);
  assert.equal(health.status, 503);
  assert.equal(health.json().components.webhook_connect, 'unhealthy');
  const adminHealth = (await http('GET', `${url}/admin/webhook-connect/health`)).json();
  assert.equal(adminHealth.status, 'unhealthy');
  assert.equal(adminHealth.buffer, false);
  const status = await http('GET', `${url}/connect/status/ch`, { headers: auth() });
  assert.equal(status.status, 503);
  await new Promise((resolve) => setTimeout(resolve, 300)); // sweeps fail meanwhile, nothing crashes

  store.setDown(false);
  assert.equal((await post(`${url}/webhook/hook`, '{"n":2}')).status, 200);
  assert.equal((await http('GET', `${url}/health`)).status, 200);
  assert.equal((await http('GET', `${url}/admin/webhook-connect/health`)).json().status, 'healthy');
  await waitFor(() => client.webhooks.length === 2, 'delivery after recovery');
  assert.deepEqual(
    client.webhooks.map((frame: any) => frame.payload.n),
    [0, 2],
  );
});

test('admin API: auth, channels, detail, stats, webhook-stats, overview, connections, disconnect (4004), dead letters replay and purge', async () => {
  const { receiver, url } = await startRelay({ ack_timeout_seconds: 30 });
  open.push(receiver);
  const base = `${url}/admin/webhook-connect`;
  assert.equal((await http('GET', `${base}/channels`)).status, 401);
  assert.equal((await http('GET', `${base}/channels`)).json().detail, 'Missing authorization header');
  const wrong = await http('GET', `${base}/channels`, { headers: auth('nope') });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json().detail, 'Invalid admin token');

  const client = new WsClient(url, 'ch');
  cleanups.push(() => client.close());
  await waitFor(() => client.connectionId !== undefined, 'connected');
  for (const n of [1, 2, 3])
    assert.equal((await post(`${url}/webhook/hook`, JSON.stringify({ n }))).status, 200);
  await waitFor(() => client.webhooks.length === 3, 'deliveries');

  const channels = (await http('GET', `${base}/channels`, { headers: admin })).json();
  assert.deepEqual(channels, [
    {
      name: 'ch',
      webhook_id: 'hook',
      created_at: channels[0]?.created_at,
      ttl_seconds: 86400,
      max_queue_size: 10000,
      max_connections: 10,
      connected_clients: 1,
    },
  ]);
  assert.ok(!Number.isNaN(Date.parse(channels[0]?.created_at)), 'created_at is a timestamp');
  const detail = (await http('GET', `${base}/channels/ch`, { headers: admin })).json();
  assert.equal(detail.config.max_in_flight, 100);
  assert.equal(detail.config.channel_token, undefined, 'never the token');
  assert.ok(!JSON.stringify(detail).includes(TOKEN));
  assert.equal(detail.stats.messages_in_flight, 3);
  assert.deepEqual(detail.stats.webhook_stats, { hook: 3 });
  assert.equal(detail.connected_clients[0].protocol, 'websocket');
  assert.equal(detail.connected_clients[0].in_flight_count, 3);
  assert.equal((await http('GET', `${base}/channels/zz`, { headers: admin })).status, 404);
  const stats = (await http('GET', `${base}/channels/ch/stats`, { headers: admin })).json();
  assert.equal(stats.messages_in_flight, 3);
  assert.equal(stats.connected_clients, 1);
  assert.deepEqual((await http('GET', `${base}/channels/ch/webhook-stats`, { headers: admin })).json(), {
    channel: 'ch',
    webhooks: { hook: { pending: 3 } },
  });
  const overview = (await http('GET', `${base}/overview`, { headers: admin })).json();
  assert.equal(overview.total_channels, 1);
  assert.equal(overview.total_connections, 1);
  assert.equal(overview.health.buffer, true);
  const connections = (await http('GET', `${base}/channels/ch/connections`, { headers: admin })).json();
  assert.equal(connections.connections[0].connection_id, client.connectionId);

  // Reject two, so there are dead letters.
  client.send({
    type: 'nack',
    message_ids: [client.webhooks[0].message_id, client.webhooks[1].message_id],
    retry: false,
    error: 'bad target',
  });
  await waitFor(async () => (await receiver.relay.service.buffer!.stats('ch')).dead === 2, 'dead letters');
  const dead = (await http('GET', `${base}/channels/ch/dead-letters?limit=10`, { headers: admin })).json();
  assert.equal(dead.count, 2);
  assert.equal(dead.messages[0].reason, 'bad target');

  const other = await http('DELETE', `${base}/channels/ch/connections/nope`, { headers: admin });
  assert.equal(other.status, 404);
  const kicked = await http('DELETE', `${base}/channels/ch/connections/${client.connectionId}`, {
    headers: admin,
  });
  assert.deepEqual(kicked.json(), { status: 'disconnected', connection_id: client.connectionId });
  await client.closed;
  assert.equal(client.closeCode, 4004);

  const replay = await post(
    `${base}/channels/ch/dead-letters/replay`,
    JSON.stringify({ message_ids: [dead.messages[0].message_id] }),
    admin,
  );
  assert.deepEqual(replay.json(), { channel: 'ch', replayed: 1 });
  const purge = await http('DELETE', `${base}/channels/ch/dead-letters`, { headers: admin });
  assert.deepEqual(purge.json(), { channel: 'ch', purged: 1 });
  const after = await receiver.relay.service.buffer!.stats('ch');
  assert.equal(after.dead, 0);
  assert.equal(after.available + after.leased, 2, 'the replayed one and the released one');

  const rotate = await post(`${base}/channels/ch/rotate-token`, '{}', admin);
  assert.match(rotate.json().message, /3600 seconds grace period/);
  assert.equal(
    (await http('GET', `${url}/connect/status/ch`, { headers: auth(TOKEN) })).status,
    200,
    'old token in grace',
  );
  assert.equal(
    (await http('GET', `${url}/connect/status/ch`, { headers: auth(rotate.json().new_token) })).status,
    200,
  );
  assert.equal(
    (await post(`${base}/channels/ch/rotate-token`, '', admin)).status,
    422,
    'a body object is required',
  );
});

test('admin API disabled without WEBHOOK_CONNECT_ADMIN_TOKEN (health stays open)', async () => {
  const { receiver, url } = await startRelay({}, { env: { WEBHOOK_CONNECT_ADMIN_TOKEN: '' } });
  open.push(receiver);
  const answer = await http('GET', `${url}/admin/webhook-connect/channels`, { headers: admin });
  assert.equal(answer.status, 403);
  assert.match(answer.json().detail, /Set WEBHOOK_CONNECT_ADMIN_TOKEN/);
  assert.equal((await http('GET', `${url}/admin/webhook-connect/health`)).json().status, 'healthy');
});

/**
 * A minimal client of the reference: it reads only `type`, `message_id`, `payload` and the connection
 * id, sends only `{"type":"ack","message_id"}` (WebSocket) or the query form of `POST /connect/ack`.
 */
test('compatibility: reference-only clients get every message exactly once over WebSocket, SSE and long-poll', async () => {
  const { receiver, url } = await startRelay();
  open.push(receiver);
  const COUNT = 60;
  const seen: Record<string, number[]> = { websocket: [], sse: [], poll: [] };
  const buffer = receiver.relay.service.buffer!;

  // WebSocket
  const ws = new WsClient(url, 'ch');
  cleanups.push(() => ws.close());
  ws.ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    if (frame.type !== 'webhook') return;
    seen.websocket!.push(frame.payload.n);
    ws.ws.send(JSON.stringify({ type: 'ack', message_id: frame.message_id }));
  });
  await waitFor(() => ws.connectionId !== undefined, 'ws connected');
  for (let n = 0; n < COUNT; n++)
    assert.equal((await post(`${url}/webhook/hook`, JSON.stringify({ n }))).status, 200);
  await waitFor(async () => (await buffer.stats('ch')).acked_total === COUNT, 'ws acks');
  await ws.close();

  // SSE with query-form acks
  let sseConnection = '';
  const sse = new SseClient(url, 'ch', {
    onWebhook: (frame) => {
      seen.sse!.push(frame.payload.n);
      void http('POST', ackUrl(url, frame.message_id, '&status=ack'), {
        headers: { authorization: `Bearer ${TOKEN}`, 'x-connection-id': sseConnection },
      });
    },
  });
  cleanups.push(() => sse.close());
  await sse.ready;
  sseConnection = sse.connectionId!;
  for (let n = 0; n < COUNT; n++)
    assert.equal((await post(`${url}/webhook/hook`, JSON.stringify({ n }))).status, 200);
  await waitFor(async () => (await buffer.stats('ch')).acked_total === 2 * COUNT, 'sse acks');
  sse.close();
  await waitFor(() => receiver.relay.service.sessions('ch').length === 0, 'sse gone');

  // Long-poll with query-form acks (`?token=` as the reference allows)
  for (let n = 0; n < COUNT; n++)
    assert.equal((await post(`${url}/webhook/hook`, JSON.stringify({ n }))).status, 200);
  while (seen.poll!.length < COUNT) {
    const answer = await http('GET', `${url}/connect/stream/ch/poll?timeout=2&token=${TOKEN}`);
    assert.equal(answer.status, 200, answer.text);
    const body = answer.json();
    for (const message of body.messages) {
      seen.poll!.push(message.payload.n);
      const ack = await http('POST', ackUrl(url, message.message_id), {
        headers: { authorization: `Bearer ${TOKEN}`, 'x-connection-id': body.connection_id },
      });
      assert.equal(ack.status, 200, ack.text);
    }
  }
  const expected = Array.from({ length: COUNT }, (_, n) => n);
  for (const [transport, ns] of Object.entries(seen))
    assert.deepEqual(
      [...ns].sort((a, b) => a - b),
      expected,
      `${transport}: every message exactly once`,
    );
  assert.equal((await buffer.stats('ch')).acked_total, 3 * COUNT);
  assert.equal(await buffer.depth('ch'), 0);
});

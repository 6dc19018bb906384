/* eslint-disable @typescript-eslint/no-explicit-any -- wire frames are read as loose JSON in tests */
/**
 * The `webhook_connect_*` metrics on `/metrics`, counted from real traffic (posts, WebSocket and SSE
 * sessions, acks and nacks, a full queue, an eviction), the channel timestamps of the admin API, and the
 * eviction of an SSE connector that lets its leases expire without acknowledging anything.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestReceiver } from '../harness/receiver.js';
import { ADMIN, ackUrl, auth, http, post, SseClient, startRelay, waitFor, WsClient } from './helpers.js';

const open: TestReceiver[] = [];
const closers: (() => unknown)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
  while (open.length > 0) await open.pop()!.stop();
});

async function relay(config: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const started = await startRelay(config, { env });
  open.push(started.receiver);
  return started;
}

/** The value of one sample (`name{labels} value`) on `/metrics`; undefined when absent. */
async function sample(
  url: string,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const text = (await http('GET', `${url}/metrics`)).text;
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = (match[2] as string).split(',').sort();
    if (JSON.stringify(have) === JSON.stringify(wanted)) return Number(match[3]);
  }
  return undefined;
}

test('publishes, deliveries, acks, nacks, connections and queue figures are counted on /metrics', async () => {
  const { url } = await relay({ max_in_flight: 10 });
  for (let i = 0; i < 3; i++) assert.equal((await post(`${url}/webhook/hook`, `{"n":${i}}`)).status, 200);
  assert.equal(await sample(url, 'webhook_connect_published_total', { channel: 'ch' }), 3);
  assert.equal(await sample(url, 'webhook_connect_queue_messages', { channel: 'ch', state: 'available' }), 3);
  assert.equal(await sample(url, 'webhook_connect_buffer_up', { backend: 'sqlite' }), 1);

  const client = new WsClient(url, 'ch');
  closers.push(() => client.close());
  await client.opened;
  await waitFor(() => client.webhooks.length === 3, 'three deliveries');
  assert.equal(await sample(url, 'webhook_connect_connections', { channel: 'ch', protocol: 'websocket' }), 1);
  assert.equal(await sample(url, 'webhook_connect_in_flight', { channel: 'ch' }), 3);
  assert.equal(await sample(url, 'webhook_connect_queue_messages', { channel: 'ch', state: 'leased' }), 3);
  assert.equal(
    await sample(url, 'webhook_connect_delivered_total', { channel: 'ch', protocol: 'websocket' }),
    3,
  );

  const [first, second, third] = client.webhooks;
  client.send({ type: 'ack', message_id: first.message_id });
  client.send({ type: 'ack', message_id: second.message_id });
  client.send({ type: 'nack', message_id: third.message_id, retry: false, error: 'bad payload' });
  await waitFor(
    async () => (await sample(url, 'webhook_connect_queue_messages', { channel: 'ch', state: 'dead' })) === 1,
    'dead letter counted',
  );
  assert.equal(await sample(url, 'webhook_connect_settled_total', { channel: 'ch', result: 'acked' }), 2);
  assert.equal(
    await sample(url, 'webhook_connect_settled_total', { channel: 'ch', result: 'nacked_dead' }),
    1,
  );
  assert.equal(
    await sample(url, 'webhook_connect_settled_total', { channel: 'ch', result: 'nacked_retry' }),
    0,
  );
  assert.equal(await sample(url, 'webhook_connect_buffer_acked_total', { channel: 'ch' }), 2);
  assert.equal(await sample(url, 'webhook_connect_queue_messages', { channel: 'ch', state: 'available' }), 0);
  assert.equal(await sample(url, 'webhook_connect_in_flight', { channel: 'ch' }), 0);
});

test('a full queue is counted by error code', async () => {
  const { url } = await relay({ max_queue_size: 1 });
  assert.equal((await post(`${url}/webhook/hook`, '{"n":1}')).status, 200);
  const refused = await post(`${url}/webhook/hook`, '{"n":2}');
  assert.equal(refused.status, 503);
  assert.equal(
    await sample(url, 'webhook_connect_publish_refused_total', { channel: 'ch', code: 'WC_QUEUE_FULL' }),
    1,
  );
  assert.equal(await sample(url, 'webhook_connect_published_total', { channel: 'ch' }), 1);
});

test('an SSE connector that lets its leases expire without acknowledging is evicted; its message goes to another', async () => {
  const { url } = await relay({ ack_timeout_seconds: 0.5, retry_backoff: { initial: 0, max: 0 } });
  const silent = new SseClient(url, 'ch');
  closers.push(() => silent.close());
  await silent.ready;
  assert.equal((await post(`${url}/webhook/hook`, '{"n":1}')).status, 200);
  await waitFor(() => silent.webhooks().length === 1, 'first delivery');

  await silent.ended; // evicted: the relay ends the stream
  assert.equal(
    await sample(url, 'webhook_connect_evictions_total', { channel: 'ch', cause: 'unacked_leases' }),
    1,
  );

  const received: any[] = [];
  const healthy = new SseClient(url, 'ch', { onWebhook: (frame) => received.push(frame) });
  closers.push(() => healthy.close());
  await healthy.ready;
  await waitFor(() => received.length === 1, 'redelivery to the healthy connector');
  assert.equal(received[0].message_id, silent.webhooks()[0].message_id);
  assert.ok(received[0].delivery_count >= 2);
  const ack = await http('POST', ackUrl(url, received[0].message_id), {
    headers: { ...auth(), 'x-connection-id': healthy.connectionId! },
  });
  assert.equal(ack.status, 200, ack.text);
  assert.equal(await sample(url, 'webhook_connect_settled_total', { channel: 'ch', result: 'acked' }), 1);
});

test('an SSE connector that acks stays connected across many lease periods', async () => {
  const { url } = await relay({ ack_timeout_seconds: 0.5 });
  let acked = 0;
  const client: SseClient = new SseClient(url, 'ch', {
    onWebhook: (frame) =>
      void http('POST', ackUrl(url, frame.message_id), {
        headers: { ...auth(), 'x-connection-id': client.connectionId! },
      }).then((answer) => answer.status === 200 && acked++),
  });
  closers.push(() => client.close());
  await client.ready;
  for (let i = 0; i < 6; i++) {
    assert.equal((await post(`${url}/webhook/hook`, `{"n":${i}}`)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await waitFor(() => acked === 6, 'six acks');
  assert.equal(client.webhooks().length, 6, 'no redelivery');
  assert.equal(
    await sample(url, 'webhook_connect_connections', { channel: 'ch', protocol: 'sse' }),
    1,
    'still connected',
  );
});

test('an SSE connector whose acks reach another instance is not evicted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wc-shared-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const env = { WEBHOOK_CONNECT_SQLITE_PATH: join(dir, 'shared.sqlite') };
  const a = await relay({ ack_timeout_seconds: 0.5 }, env);
  const b = await relay({ ack_timeout_seconds: 0.5 }, env);
  let acked = 0;
  const client: SseClient = new SseClient(a.url, 'ch', {
    // Every ack goes to instance B, as behind a load balancer without sticky sessions.
    onWebhook: (frame) =>
      void http('POST', ackUrl(b.url, frame.message_id), {
        headers: { ...auth(), 'x-connection-id': client.connectionId! },
      }).then((answer) => answer.status === 200 && acked++),
  });
  closers.push(() => client.close());
  await client.ready;
  for (let i = 0; i < 4; i++) {
    assert.equal((await post(`${a.url}/webhook/hook`, `{"n":${i}}`)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  await waitFor(() => acked === 4, 'four acks through B');
  await new Promise((resolve) => setTimeout(resolve, 1200)); // past the lease deadlines A still holds
  assert.equal(
    await sample(a.url, 'webhook_connect_evictions_total', { channel: 'ch', cause: 'unacked_leases' }),
    0,
  );
  assert.equal(await sample(a.url, 'webhook_connect_connections', { channel: 'ch', protocol: 'sse' }), 1);
  assert.equal(client.webhooks().length, 4, 'nothing redelivered');
});

test('the admin API reports when the channel was registered and last changed', async () => {
  const before = Date.now();
  const { url } = await relay();
  const detail = await http('GET', `${url}/admin/webhook-connect/channels/ch`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(detail.status, 200, detail.text);
  const body = detail.json();
  const created = Date.parse(body.created_at);
  assert.ok(created >= before - 1000 && created <= Date.now(), body.created_at);
  assert.equal(body.config.created_at, body.created_at);
  assert.equal(body.config.updated_at, body.created_at, 'not changed since');
  const list = await http('GET', `${url}/admin/webhook-connect/channels`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(list.json()[0].created_at, body.created_at);
});

/* eslint-disable @typescript-eslint/no-explicit-any -- wire frames are read as loose JSON in tests */
/**
 * The three transports over real sockets: 1,000 webhooks each with zero loss and zero redelivery,
 * redelivery after `ack_timeout` with `delivery_count` 2 and dead-lettering after
 * `max_delivery_attempts`, close codes, malformed frames, back-pressure and round-robin, eviction.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestReceiver } from '../harness/receiver.js';
import { ADMIN, ackUrl, auth, http, post, SseClient, startRelay, waitFor, WsClient } from './helpers.js';

const open: TestReceiver[] = [];
const clients: { close(): unknown }[] = [];
afterEach(async () => {
  while (clients.length > 0) await clients.pop()!.close();
  while (open.length > 0) await open.pop()!.stop();
});

async function relay(config: Record<string, unknown> = {}) {
  const started = await startRelay(config);
  open.push(started.receiver);
  return started;
}

/** Posts `count` webhooks, `parallel` at a time; every answer must be 200. */
async function postMany(url: string, count: number, parallel = 50): Promise<void> {
  for (let start = 0; start < count; start += parallel) {
    const batch = [];
    for (let n = start; n < Math.min(count, start + parallel); n++)
      batch.push(post(`${url}/webhook/hook`, JSON.stringify({ n })));
    for (const answer of await Promise.all(batch)) assert.equal(answer.status, 200, answer.text);
  }
}

function assertExactlyOnce(frames: any[], count: number) {
  const ns = frames.map((frame) => frame.payload.n as number).sort((a, b) => a - b);
  assert.equal(frames.length, count, 'one delivery per webhook');
  assert.deepEqual(
    ns,
    Array.from({ length: count }, (_, n) => n),
  );
  assert.ok(
    frames.every((frame) => frame.delivery_count === 1),
    'no redelivery',
  );
}

const COUNT = 1000;

test('websocket: 1,000 webhooks, zero loss, zero redelivery', async () => {
  const { receiver, url } = await relay();
  const client = new WsClient(url, 'ch', { autoAck: true });
  clients.push(client);
  await client.opened;
  await postMany(url, COUNT);
  const buffer = receiver.relay.service.buffer!;
  await waitFor(async () => (await buffer.stats('ch')).acked_total === COUNT, 'all acked');
  assertExactlyOnce(client.webhooks, COUNT);
  assert.equal(await buffer.depth('ch'), 0);
  const first = client.webhooks[0];
  assert.equal(Buffer.from(first.body, 'base64').toString(), JSON.stringify(first.payload));
  assert.equal(first.content_type, 'application/json');
  assert.equal(typeof first.expires_at, 'string');
});

test('sse: 1,000 webhooks acked over POST /connect/ack, zero loss, zero redelivery; events have id:', async () => {
  const { receiver, url } = await relay();
  const acks: Promise<unknown>[] = [];
  let connectionId = '';
  const client = new SseClient(url, 'ch', {
    onWebhook: (frame) => {
      acks.push(
        http('POST', ackUrl(url, frame.message_id), {
          headers: { ...auth(), 'x-connection-id': connectionId },
        }).then((answer) => assert.equal(answer.status, 200, answer.text)),
      );
    },
  });
  clients.push(client);
  await client.ready;
  assert.equal(client.status, 200);
  connectionId = client.connectionId!;
  await postMany(url, COUNT);
  const buffer = receiver.relay.service.buffer!;
  await waitFor(async () => (await buffer.stats('ch')).acked_total === COUNT, 'all acked');
  await Promise.all(acks);
  assertExactlyOnce(client.webhooks(), COUNT);
  const events = client.events.filter((event) => event.event === 'webhook');
  assert.ok(events.every((event) => event.id === event.data.message_id));
});

test('long-poll: 1,000 webhooks with batch acks, zero loss, zero redelivery', async () => {
  const { receiver, url } = await relay();
  await postMany(url, COUNT);
  const received: any[] = [];
  while (received.length < COUNT) {
    const answer = await http('GET', `${url}/connect/stream/ch/poll?timeout=2&max_messages=100`, {
      headers: auth(),
    });
    assert.equal(answer.status, 200, answer.text);
    const body = answer.json();
    assert.ok(body.messages.length > 1, 'drains more than one message per poll');
    received.push(...body.messages);
    const ack = await http('POST', `${url}/connect/ack`, {
      headers: { ...auth(), 'x-connection-id': body.connection_id, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'ack', message_ids: body.messages.map((m: any) => m.message_id) }),
    });
    assert.equal(ack.status, 200, ack.text);
    assert.equal(ack.json().status, 'ok');
  }
  assertExactlyOnce(received, COUNT);
  const buffer = receiver.relay.service.buffer!;
  assert.equal((await buffer.stats('ch')).acked_total, COUNT);
  const empty = await http('GET', `${url}/connect/stream/ch/poll?timeout=1`, { headers: auth() });
  assert.equal(empty.status, 204);
});

test('a client that never acks: redelivered after ack_timeout with delivery_count 2, then dead-lettered', async () => {
  const { url } = await relay({
    ack_timeout_seconds: 0.5,
    max_delivery_attempts: 2,
    retry_backoff: { initial: 0, max: 0 },
  });
  const client = new WsClient(url, 'ch');
  clients.push(client);
  await client.opened;
  assert.equal((await post(`${url}/webhook/hook`, '{"n":1}')).status, 200);
  await waitFor(() => client.webhooks.length >= 2, 'redelivery');
  assert.deepEqual(
    client.webhooks.map((frame) => frame.delivery_count),
    [1, 2],
  );
  assert.equal(client.webhooks[0].message_id, client.webhooks[1].message_id);
  const admin = { authorization: `Bearer ${ADMIN}` };
  await waitFor(async () => {
    const dead = await http('GET', `${url}/admin/webhook-connect/channels/ch/dead-letters`, {
      headers: admin,
    });
    return dead.json().count === 1;
  }, 'dead letter');
  const dead = (
    await http('GET', `${url}/admin/webhook-connect/channels/ch/dead-letters`, { headers: admin })
  ).json();
  assert.equal(dead.messages[0].reason, 'max_delivery_attempts');
  assert.equal(dead.messages[0].state, 'dead_lettered');
  assert.equal(dead.messages[0].delivery_count, 2);
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(client.webhooks.length, 2, 'no third delivery');
});

test('websocket close codes: 4002 unknown channel, 4001 bad token, 4003 max connections', async () => {
  const { url } = await relay({ max_connections: 1 });
  const unknown = new WsClient(url, 'nope');
  await unknown.closed;
  assert.equal(unknown.closeCode, 4002);
  const bad = new WsClient(url, 'ch', { token: 'wrong' });
  await bad.closed;
  assert.equal(bad.closeCode, 4001);
  const first = new WsClient(url, 'ch');
  clients.push(first);
  await waitFor(() => first.connectionId !== undefined, 'connected');
  const second = new WsClient(url, 'ch');
  await second.closed;
  assert.equal(second.closeCode, 4003);
  const connected = first.frames[0];
  assert.equal(connected.type, 'connected');
  assert.equal(connected.channel, 'ch');
  assert.equal(connected.heartbeat_interval_seconds, 30);
  assert.equal(connected.max_in_flight, 100);
});

test('a malformed text frame is ignored (acks still work); a binary frame closes with 1003', async () => {
  const { receiver, url } = await relay();
  const client = new WsClient(url, 'ch');
  clients.push(client);
  await waitFor(() => client.connectionId !== undefined, 'connected');
  client.send('not json');
  client.send({ type: 'what' });
  client.send({ type: 'ack' });
  assert.equal((await post(`${url}/webhook/hook`, '{"n":1}')).status, 200);
  await waitFor(() => client.webhooks.length === 1, 'delivery');
  client.send({ type: 'ack', message_ids: [client.webhooks[0].message_id] });
  await waitFor(async () => (await receiver.relay.service.buffer!.stats('ch')).acked_total === 1, 'ack');
  client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  await client.closed;
  assert.equal(client.closeCode, 1003);
});

test('back-pressure at max_in_flight per connection, round-robin across connectors', async () => {
  const { receiver, url } = await relay({ max_in_flight: 3 });
  const a = new WsClient(url, 'ch');
  const b = new WsClient(url, 'ch');
  clients.push(a, b);
  await waitFor(() => a.connectionId !== undefined && b.connectionId !== undefined, 'connected');
  await postMany(url, 10, 10);
  await waitFor(() => a.webhooks.length === 3 && b.webhooks.length === 3, 'both at max_in_flight');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(a.webhooks.length, 3, 'a holds no more than max_in_flight');
  assert.equal(b.webhooks.length, 3);
  // One ack frees one slot on that connection only.
  a.send({ type: 'ack', message_id: a.webhooks[0].message_id });
  await waitFor(() => a.webhooks.length === 4, 'a gets one more');
  assert.equal(b.webhooks.length, 3);
  const ids = new Set([...a.webhooks, ...b.webhooks].map((frame) => frame.message_id));
  assert.equal(ids.size, 7, 'no message went to both');
  assert.equal((await receiver.relay.service.buffer!.stats('ch')).leased, 6);
});

test('heartbeat deadline: a silent websocket connector is evicted with 4004 and its messages released', async () => {
  const { url } = await relay({ heartbeat_interval_seconds: 0.2, retry_backoff: { initial: 0, max: 0 } });
  const silent = new WsClient(url, 'ch');
  await waitFor(() => silent.connectionId !== undefined, 'connected');
  // `ws` answers pings automatically but sends no frames: the server sees only its heartbeats go out.
  assert.equal((await post(`${url}/webhook/hook`, '{"n":1}')).status, 200);
  await waitFor(() => silent.webhooks.length === 1, 'delivery');
  await silent.closed;
  assert.equal(silent.closeCode, 4004);
  assert.ok(
    silent.frames.some((frame) => frame.type === 'heartbeat'),
    'server heartbeats were sent',
  );
  const next = new WsClient(url, 'ch', { autoAck: true });
  clients.push(next);
  await waitFor(() => next.webhooks.length === 1, 'redelivered to the next connector');
  assert.equal(next.webhooks[0].message_id, silent.webhooks[0].message_id);
  assert.equal(next.webhooks[0].delivery_count, 2);
});

test('a connector that sends heartbeats is not evicted', async () => {
  const { url } = await relay({ heartbeat_interval_seconds: 0.2 });
  const client = new WsClient(url, 'ch');
  clients.push(client);
  await waitFor(() => client.connectionId !== undefined, 'connected');
  const timer = setInterval(
    () => client.send({ type: 'heartbeat', timestamp: new Date().toISOString() }),
    100,
  );
  await new Promise((resolve) => setTimeout(resolve, 1200));
  clearInterval(timer);
  assert.equal(client.closeCode, undefined);
});

test('SSE and long-poll refusals use the reference statuses; poll parameters are checked', async () => {
  const { url } = await relay({ max_connections: 1, allowed_ips: ['10.0.0.0/8'] });
  const noToken = await http('GET', `${url}/connect/stream/ch/sse`);
  assert.equal(noToken.status, 401);
  assert.equal(noToken.json().detail, 'Missing authorization token');
  const badToken = await http('GET', `${url}/connect/stream/ch/poll?timeout=1`, { headers: auth('x') });
  assert.equal(badToken.status, 401);
  assert.equal(badToken.json().detail, 'Invalid channel token');
  assert.equal(
    (await http('GET', `${url}/connect/stream/zz/poll?timeout=1`, { headers: auth() })).status,
    401,
  );
  for (const query of ['timeout=0', 'timeout=61', 'timeout=x', 'max_messages=0', 'max_messages=101']) {
    const answer = await http('GET', `${url}/connect/stream/ch/poll?${query}`, { headers: auth() });
    assert.equal(answer.status, 422, query);
  }
  const denied = await http('GET', `${url}/connect/stream/ch/poll?timeout=1`, { headers: auth() });
  assert.equal(denied.status, 403, 'outside allowed_ips');
  assert.equal(denied.json().code, 'WC_CONNECT_IP_DENIED');
  const ws = new WsClient(url, 'ch');
  await ws.closed;
  assert.equal(ws.closeCode, 4001);
});

test('POST /connect/ack: 422 without headers, 404 unknown connection or not in flight, 401 wrong token; nack with retry=false dead-letters', async () => {
  const { receiver, url } = await relay();
  assert.equal((await post(`${url}/webhook/hook`, '{"n":1}')).status, 200);
  assert.equal((await post(`${url}/webhook/hook`, '{"n":2}')).status, 200);
  const poll = (
    await http('GET', `${url}/connect/stream/ch/poll?timeout=1&max_messages=2`, { headers: auth() })
  ).json();
  const [m1, m2] = poll.messages;
  const headers = { ...auth(), 'x-connection-id': poll.connection_id };
  assert.equal((await http('POST', ackUrl(url, m1.message_id), { headers: auth() })).status, 422);
  assert.equal(
    (await http('POST', ackUrl(url, m1.message_id), { headers: { 'x-connection-id': poll.connection_id } }))
      .status,
    422,
  );
  const unknown = await http('POST', ackUrl(url, m1.message_id), {
    headers: { ...auth(), 'x-connection-id': 'nope' },
  });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json().detail, 'Connection not found');
  const wrong = await http('POST', ackUrl(url, m1.message_id), { headers: { ...headers, ...auth('bad') } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json().detail, 'Invalid token');
  const notInFlight = await http('POST', ackUrl(url, 'msg_0000000000000000'), { headers });
  assert.equal(notInFlight.status, 404);
  const ok = await http('POST', ackUrl(url, m1.message_id), { headers });
  assert.deepEqual(ok.json(), { status: 'ok', message_id: m1.message_id });
  assert.equal((await http('POST', ackUrl(url, m1.message_id), { headers })).status, 404, 'acked twice');
  const reject = await http('POST', ackUrl(url, m2.message_id, '&status=nack&retry=false'), { headers });
  assert.equal(reject.status, 200);
  const dead = await receiver.relay.service.buffer!.listDeadLetters('ch');
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.id, m2.message_id);
});

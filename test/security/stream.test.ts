/* eslint-disable @typescript-eslint/no-explicit-any -- wire frames are read as loose JSON in tests */
/**
 * Hostile input on the connector side of the relay (issue 7), over real sockets: WebSocket text and
 * binary garbage, 20 MiB frames, acks for unknown ids and for another channel's messages, a token for the
 * wrong channel, and brute-force token guessing. Every case checks its defined outcome (close code, frame
 * ignored with the connection still working, per-id outcome, 4001 / 401, 429), and then that the process
 * is still up and relaying: a webhook posted afterwards reaches a fresh connector.
 *
 * Two channels: `cha` and `chb`, each with its own token. The receiver trusts 127.0.0.1 as a proxy, so a
 * test can act as several client addresses through `X-Forwarded-For`.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';
import { ADMIN, ackUrl, auth, http, post, relayWebhook, TOKEN, waitFor, WsClient } from '../relay/helpers.js';
import { MiB, rss } from './helpers.js';

const TOKEN_B = 'channel-b-secret-token';
/** Failed token checks allowed per client address per minute before every check is refused (429). */
const GUESS_LIMIT = 30;

let receiver: TestReceiver | undefined;
const clients: WsClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  await receiver?.stop();
  receiver = undefined;
});

async function relay(): Promise<string> {
  receiver = await startTestReceiver({
    webhooks: {
      a: relayWebhook('cha', { retry_backoff: { initial: 0, max: 0 } }),
      b: relayWebhook('chb', { channel_token: TOKEN_B, retry_backoff: { initial: 0, max: 0 } }),
    },
    env: {
      WEBHOOK_CONNECT_ADMIN_TOKEN: ADMIN,
      WEBHOOK_CONNECT_BUFFER: 'sqlite',
      TRUSTED_PROXY_IPS: '127.0.0.1/32,::1/128',
    },
  });
  return receiver.listen();
}

/** A WebSocket connector client whose socket errors (EPIPE after a server close) are expected. */
function connect(url: string, channel: string, options: { token?: string; autoAck?: boolean } = {}) {
  const client = new WsClient(url, channel, options);
  client.ws.on('error', () => {});
  client.opened.catch(() => {});
  clients.push(client);
  return client;
}

async function connected(client: WsClient): Promise<void> {
  await waitFor(() => client.connectionId !== undefined || client.closeCode !== undefined, 'connected');
  assert.equal(client.closeCode, undefined, `closed with ${client.closeCode} ${client.closeReason}`);
}

let probeN = 0;
/**
 * The process is up and relaying: a webhook posted now reaches a fresh connector on `channel` (the only
 * one on it, or one that acks: a connector that holds its messages would take the probe).
 */
async function assertStillRelaying(url: string, channel: 'cha' | 'chb' = 'cha'): Promise<void> {
  const n = `probe-${++probeN}-${randomBytes(3).toString('hex')}`;
  const fresh = connect(url, channel, { autoAck: true, token: channel === 'cha' ? TOKEN : TOKEN_B });
  await connected(fresh);
  const answer = await post(`${url}/webhook/${channel === 'cha' ? 'a' : 'b'}`, JSON.stringify({ n }));
  assert.equal(answer.status, 200, answer.text);
  await waitFor(() => fresh.webhooks.some((frame) => frame.payload.n === n), 'the probe webhook delivered');
  await fresh.close();
}

/** A WebSocket handshake with `headers`: `http <status>` when refused, `close <code>` once closed. */
function wsAttempt(url: string, channel: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/connect/stream/${channel}`, { headers });
    ws.on('error', () => {});
    ws.on('unexpected-response', (_request, response) => {
      resolve(`http ${response.statusCode}`);
      ws.terminate();
    });
    ws.on('close', (code) => resolve(`close ${code}`));
  });
}

async function stats(channel: string): Promise<any> {
  return (await receiver!.relay.service.buffer!.stats(channel)) as any;
}

test('WebSocket text garbage is ignored and the connection keeps working; invalid UTF-8 closes with 1007', async () => {
  const url = await relay();
  const client = connect(url, 'cha');
  await connected(client);
  const garbage: string[] = [
    '',
    'not json',
    '{',
    '{"type":',
    '[]',
    'null',
    '123',
    '"ack"',
    '{}',
    '{"type":"what"}',
    '{"type":"ack"}',
    '{"type":"ack","message_id":""}',
    '{"type":"ack","message_id":42}',
    '{"type":"ack","message_ids":"msg_x"}',
    '{"type":"ack","message_ids":[null,{}]}',
    `{"type":"ack","message_ids":${JSON.stringify(Array.from({ length: 1001 }, (_, i) => `x${i}`))}}`,
    '{"type":"nack","message_id":"x","retry":"yes"}',
    '{"type":"nack","message_id":"x","delay_seconds":-1}',
    '{"type":"nack","message_id":"x","delay_seconds":1e309}',
    '{"__proto__":{"type":"ack"},"message_id":"x"}',
    '{"type":"__proto__","constructor":{"prototype":{"polluted":true}}}',
    '['.repeat(200_000),
    `{"type":"heartbeat","pad":"${'x'.repeat(900_000)}"}`,
    '\u0000\u0001\u0002\ufffd\u2028\u{1f4a9}',
    randomBytes(4096).toString('latin1'),
  ];
  for (const frame of garbage) client.send(frame);
  assert.equal(({} as any).polluted, undefined, 'no prototype pollution');
  // The connection is still open and still works: a webhook arrives and an ack settles it.
  assert.equal((await post(`${url}/webhook/a`, '{"n":1}')).status, 200);
  await waitFor(() => client.webhooks.length === 1, 'delivery after the garbage');
  client.send({ type: 'ack', message_id: client.webhooks[0].message_id });
  await waitFor(async () => (await stats('cha')).acked_total === 1, 'the ack after the garbage');
  assert.equal(client.closeCode, undefined, 'still open');

  // A text frame that is not UTF-8: the WebSocket layer closes with 1007 (invalid frame payload data).
  client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d]), { binary: false });
  await client.closed;
  assert.equal(client.closeCode, 1007);
  await assertStillRelaying(url);
});

test('WebSocket binary garbage closes with 1003; the messages that connection held are redelivered', async () => {
  const url = await relay();
  const client = connect(url, 'cha');
  await connected(client);
  assert.equal((await post(`${url}/webhook/a`, '{"n":"held"}')).status, 200);
  await waitFor(() => client.webhooks.length === 1, 'delivery');
  client.ws.send(randomBytes(1024), { binary: true });
  await client.closed;
  assert.equal(client.closeCode, 1003);
  const next = connect(url, 'cha', { autoAck: true });
  await waitFor(() => next.webhooks.length === 1, 'redelivery to the next connector');
  assert.equal(next.webhooks[0].message_id, client.webhooks[0].message_id);
  assert.equal(next.webhooks[0].delivery_count, 2);
  await next.close();
  await assertStillRelaying(url);
});

test('20 MiB frames (text and binary, before and after authentication) close with 1009; RSS stays bounded', async () => {
  const url = await relay();
  const before = rss();
  for (const binary of [false, true]) {
    const client = connect(url, 'cha');
    await connected(client);
    client.ws.send(Buffer.alloc(20 * MiB, 0x61), { binary });
    await client.closed;
    assert.equal(
      client.closeCode,
      1009,
      `${binary ? 'binary' : 'text'} frame closed with ${client.closeCode}`,
    );
  }
  // Sent at once, while the token is still being checked (frames then are queued for the session).
  const early = new WebSocket(`${url.replace(/^http/, 'ws')}/connect/stream/cha`, { headers: auth() });
  early.on('error', () => {});
  const earlyClosed = new Promise<number>((resolve) => early.once('close', (code) => resolve(code)));
  early.once('open', () => early.send(Buffer.alloc(20 * MiB, 0x62), { binary: false }));
  assert.equal(await earlyClosed, 1009);
  const growth = rss() - before;
  assert.ok(growth < 128 * MiB, `RSS grew by ${Math.round(growth / MiB)} MiB`);
  await assertStillRelaying(url);
});

test('acks and nacks for unknown ids: ignored on the WebSocket, per-id outcome over POST /connect/ack', async () => {
  const url = await relay();
  const client = connect(url, 'cha');
  await connected(client);
  assert.equal((await post(`${url}/webhook/a`, '{"n":1}')).status, 200);
  await waitFor(() => client.webhooks.length === 1, 'delivery');
  const real = client.webhooks[0].message_id as string;
  const unknown = [
    'msg_0000000000000000',
    'nope',
    'x'.repeat(10_000),
    '../../etc/passwd',
    "' OR 1=1 --",
    '*',
    '{cha}:*',
  ];
  client.send({ type: 'ack', message_ids: unknown });
  client.send({ type: 'nack', message_ids: unknown, retry: false });
  client.send({ type: 'ack', message_ids: Array.from({ length: 1000 }, (_, i) => `msg_${i}`) });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(client.closeCode, undefined, 'the connection stays open');
  const s = await stats('cha');
  assert.equal(s.acked_total, 0, 'nothing was acked');
  assert.equal(s.dead, 0, 'nothing was dead-lettered');
  assert.equal(s.leased, 1, 'the real message is still in flight');
  client.send({ type: 'ack', message_id: real });
  await waitFor(async () => (await stats('cha')).acked_total === 1, 'the real ack');

  // Over HTTP: a batch mixing a leased id and unknown ones answers per id (the WebSocket connector leaves,
  // so the long-poll gets the next message).
  await client.close();
  assert.equal((await post(`${url}/webhook/a`, '{"n":2}')).status, 200);
  const poll = (
    await http('GET', `${url}/connect/stream/cha/poll?timeout=5&max_messages=10`, { headers: auth() })
  ).json();
  assert.equal(poll.messages.length, 1);
  const leased = poll.messages[0].message_id as string;
  const headers = { ...auth(), 'x-connection-id': poll.connection_id, 'content-type': 'application/json' };
  const batch = await http('POST', `${url}/connect/ack`, {
    headers,
    body: JSON.stringify({ type: 'ack', message_ids: [leased, 'msg_0000000000000000', 'nope'] }),
  });
  assert.equal(batch.status, 200, batch.text);
  assert.equal(batch.json().status, 'partial');
  assert.deepEqual(
    batch.json().results.map((r: any) => [r.message_id, r.outcome]),
    [
      [leased, 'ok'],
      ['msg_0000000000000000', 'not_found'],
      ['nope', 'not_found'],
    ],
  );
  const single = await http('POST', ackUrl(url, 'nope'), { headers: auth() as Record<string, string> });
  assert.equal(single.status, 422, 'no X-Connection-ID');
  const notInFlight = await http('POST', ackUrl(url, 'nope'), {
    headers: { ...auth(), 'x-connection-id': poll.connection_id },
  });
  assert.equal(notInFlight.status, 404);
  assert.equal(notInFlight.json().code, 'WC_MESSAGE_NOT_IN_FLIGHT');
  assert.equal((await stats('cha')).acked_total, 2);
  await assertStillRelaying(url);
});

test("acks and nacks for another channel's messages change nothing; that channel's connector still settles them", async () => {
  const url = await relay();
  const a = connect(url, 'cha');
  const b = connect(url, 'chb', { token: TOKEN_B });
  await connected(a);
  await connected(b);
  assert.equal((await post(`${url}/webhook/b`, '{"n":"b1"}')).status, 200);
  await waitFor(() => b.webhooks.length === 1, 'delivery on chb');
  const foreign = b.webhooks[0].message_id as string;

  // Over A's WebSocket: ignored (the buffer finds no such message in cha).
  a.send({ type: 'ack', message_id: foreign });
  a.send({ type: 'nack', message_id: foreign, retry: false });
  // Over HTTP with A's token and A's connection: per-id outcome, 404 for a single ack.
  const aConnection = a.connectionId!;
  const viaA = await http('POST', `${url}/connect/ack`, {
    headers: { ...auth(), 'x-connection-id': aConnection, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'nack', message_ids: [foreign], retry: false }),
  });
  assert.equal(viaA.status, 200, viaA.text);
  assert.deepEqual(
    viaA.json().results.map((r: any) => [r.message_id, r.outcome]),
    [[foreign, 'not_found']],
  );
  const single = await http('POST', ackUrl(url, foreign), {
    headers: { ...auth(), 'x-connection-id': aConnection },
  });
  assert.equal(single.status, 404);
  // A's token with B's connection id: the token is checked against the connection's channel → 401.
  const borrowed = await http('POST', ackUrl(url, foreign), {
    headers: { ...auth(), 'x-connection-id': b.connectionId! },
  });
  assert.equal(borrowed.status, 401);
  assert.equal(borrowed.json().code, 'WC_CONNECT_TOKEN_INVALID');

  await new Promise((resolve) => setTimeout(resolve, 300));
  const s = await stats('chb');
  assert.equal(s.leased, 1, "B's message is still in flight on B");
  assert.equal(s.acked_total, 0);
  assert.equal(s.dead, 0);
  assert.equal(a.closeCode, undefined);
  b.send({ type: 'ack', message_id: foreign });
  await waitFor(async () => (await stats('chb')).acked_total === 1, "B's own ack");
  await b.close();
  await assertStillRelaying(url, 'chb');
});

test('a token for another channel: WebSocket 4001, SSE / long-poll / ack / status 401', async () => {
  const url = await relay();
  const ws = connect(url, 'chb', { token: TOKEN });
  await ws.closed;
  assert.equal(ws.closeCode, 4001);
  assert.equal(ws.closeReason, 'Invalid channel token');
  for (const path of [
    '/connect/stream/chb/sse',
    '/connect/stream/chb/poll?timeout=1',
    '/connect/status/chb',
  ]) {
    const answer = await http('GET', `${url}${path}`, { headers: auth(TOKEN) });
    assert.equal(answer.status, 401, path);
    assert.equal(answer.json().code, 'WC_CONNECT_TOKEN_INVALID', path);
  }
  // An ack on a chb connection id with cha's token.
  const b = connect(url, 'chb', { token: TOKEN_B });
  await connected(b);
  const ack = await http('POST', ackUrl(url, 'msg_0000000000000000'), {
    headers: { ...auth(TOKEN), 'x-connection-id': b.connectionId! },
  });
  assert.equal(ack.status, 401);
  assert.equal(b.closeCode, undefined, "the other channel's connector is not affected");
  await b.close();
  await assertStillRelaying(url, 'chb');
});

test(`brute-force token guessing is limited per client address: after ${GUESS_LIMIT} failures every check is refused (429, handshake refused)`, async () => {
  const url = await relay();
  // An honest connector connected before the guessing keeps working throughout.
  const honest = connect(url, 'cha', { autoAck: true });
  await connected(honest);
  const guesser = { 'x-forwarded-for': '203.0.113.7' };
  const guess = (i: number) => `ch_tok_${i.toString(16).padStart(48, '0')}`;
  const outcomes: string[] = [];
  for (let i = 0; i < GUESS_LIMIT; i++) {
    // Spread over the WebSocket and the HTTP endpoints: they share one budget per address.
    if (i % 3 === 0) {
      outcomes.push(await wsAttempt(url, 'cha', { ...auth(guess(i)), ...guesser }));
    } else {
      const path = i % 3 === 1 ? '/connect/stream/cha/poll?timeout=1' : '/connect/status/cha';
      const answer = await http('GET', `${url}${path}`, { headers: { ...auth(guess(i)), ...guesser } });
      outcomes.push(`http ${answer.status}`);
    }
  }
  assert.deepEqual(
    outcomes,
    Array.from({ length: GUESS_LIMIT }, (_, i) => (i % 3 === 0 ? 'close 4001' : 'http 401')),
    `the first ${GUESS_LIMIT} guesses are refused as invalid tokens`,
  );
  // Over the limit: refused before the token is checked, even the right token, on every endpoint.
  for (const [method, path] of [
    ['GET', '/connect/stream/cha/poll?timeout=1'],
    ['GET', '/connect/stream/cha/sse'],
    ['GET', '/connect/status/cha'],
    ['POST', '/connect/ack?message_id=x'],
  ] as const) {
    const answer = await http(method, `${url}${path}`, {
      headers: { ...auth(TOKEN), ...guesser, 'x-connection-id': honest.connectionId! },
    });
    assert.equal(answer.status, 429, `${method} ${path} answered ${answer.status} ${answer.text}`);
    assert.equal(answer.json().code, 'WC_RATE_LIMITED');
    assert.ok(Number(answer.headers['retry-after']) >= 1, 'Retry-After');
  }
  assert.equal(
    await wsAttempt(url, 'cha', { ...auth(TOKEN), ...guesser }),
    'http 429',
    'the WebSocket handshake is refused with 429',
  );
  // Other addresses are not affected; neither is the honest connector.
  const other = await http('GET', `${url}/connect/status/cha`, {
    headers: { ...auth(TOKEN), 'x-forwarded-for': '198.51.100.9' },
  });
  assert.equal(other.status, 200);
  assert.equal(honest.closeCode, undefined);
  assert.equal((await post(`${url}/webhook/a`, '{"n":"after-guessing"}')).status, 200);
  await waitFor(
    () => honest.webhooks.some((frame) => frame.payload.n === 'after-guessing'),
    'delivery to the honest connector',
  );
  await honest.close();
  await assertStillRelaying(url);
});

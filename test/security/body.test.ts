/**
 * Hostile bodies: malformed and truncated JSON, invalid UTF-8, 10,000-deep nesting, and a 100 MiB body
 * sent quickly and slowly. Each gets its defined status and code, the receiver keeps serving, and memory
 * stays bounded (the body limit is enforced while reading).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';
import {
  assertStillServing,
  KiB,
  MiB,
  portOf,
  PROBE_WEBHOOK,
  RawClient,
  rss,
  sink,
  sleep,
} from './helpers.js';

let receiver: TestReceiver | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await receiver?.stop();
  receiver = undefined;
});

const json = { 'content-type': 'application/json' };

async function post(
  r: TestReceiver,
  id: string,
  payload: string | Buffer,
  headers: Record<string, string> = json,
) {
  return r.app.inject({ method: 'POST', url: `/webhook/${id}`, payload, headers });
}

test('malformed JSON answers 400 WC_JSON_MALFORMED, and the next request is served', async () => {
  receiver = await startTestReceiver({ webhooks: { ...PROBE_WEBHOOK, sink: sink() } });
  const bodies = [
    '',
    ' ',
    '{',
    '}',
    '{"a":}',
    '{"a" 1}',
    "{'a':1}",
    '[1,]',
    '{"a":1,}',
    '{"a":1}}',
    '{"a":1} {"b":2}',
    'NaN',
    'Infinity',
    'undefined',
    'nul',
    '"unterminated',
    '{"a":"\\x41"}',
    '{"a":01}',
    '{"a":1e}',
    '\u0000',
    '{"a":"\u0001"}', // raw control character inside a string
    '<?xml version="1.0"?><a/>',
  ];
  for (const body of bodies) {
    const response = await post(receiver, 'sink', body);
    assert.equal(response.statusCode, 400, `${JSON.stringify(body)} answered ${response.statusCode}`);
    assert.deepEqual(response.json(), { detail: 'Malformed JSON payload', code: 'WC_JSON_MALFORMED' });
  }
  await assertStillServing(receiver);
});

test('every truncation of a valid JSON document answers 400 WC_JSON_MALFORMED', async () => {
  receiver = await startTestReceiver({ webhooks: { ...PROBE_WEBHOOK, sink: sink() } });
  const document = JSON.stringify({
    id: 'evt_1',
    type: 'payment_intent.succeeded',
    data: { amount: 4200, tags: ['a', 'b'], nested: { ok: true, none: null, pi: 3.14, text: 'é€😀' } },
  });
  let refused = 0;
  // Every strict prefix (none is valid JSON: the document is an object).
  for (let cut = 0; cut < document.length; cut++) {
    const response = await post(receiver, 'sink', document.slice(0, cut));
    assert.equal(response.statusCode, 400, `prefix of ${cut} answered ${response.statusCode}`);
    assert.equal(response.json().code, 'WC_JSON_MALFORMED', `prefix of ${cut} characters`);
    refused++;
  }
  assert.equal(refused, document.length);
  // Byte-level truncation inside the multi-byte characters: undecodable, not malformed.
  const bytes = Buffer.from(document);
  const emoji = bytes.indexOf(Buffer.from('😀'));
  for (const cut of [emoji + 1, emoji + 2, emoji + 3]) {
    const response = await post(receiver, 'sink', bytes.subarray(0, cut));
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().code, 'WC_BODY_UNDECODABLE');
  }
  assert.equal((await post(receiver, 'sink', document)).statusCode, 200);
  await assertStillServing(receiver);
});

test('invalid UTF-8 answers 400 WC_BODY_UNDECODABLE for json webhooks; blob webhooks take the bytes', async () => {
  receiver = await startTestReceiver({
    webhooks: { ...PROBE_WEBHOOK, sink: sink(), raw: sink({ data_type: 'blob' }) },
  });
  const samples: Buffer[] = [
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), // {"a":"\xff"}
    Buffer.from([0xc3]), // truncated 2-byte sequence
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.from([0xed, 0xa0, 0x80]), // UTF-8-encoded surrogate
    Buffer.from([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
    Buffer.from([0x22, 0x80, 0x22]), // lone continuation byte
    Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(1000, 0xfe), Buffer.from('"}')]),
  ];
  const detail = 'Request body is not valid UTF-8 (declare the charset in Content-Type if it is not UTF-8)';
  for (const body of samples) {
    for (const contentType of ['application/json', 'application/json; charset=utf-8']) {
      const response = await post(receiver, 'sink', body, { 'content-type': contentType });
      assert.equal(response.statusCode, 400, `${body.toString('hex')} answered ${response.statusCode}`);
      assert.deepEqual(response.json(), { detail, code: 'WC_BODY_UNDECODABLE' });
    }
    // data_type blob does not decode: the bytes are the payload.
    const blob = await post(receiver, 'raw', body, { 'content-type': 'application/octet-stream' });
    assert.equal(blob.statusCode, 200);
  }
  await assertStillServing(receiver);
});

test('10,000-deep nesting answers 400 WC_JSON_TOO_DEEP before parsing, in well-formed and broken forms', async () => {
  receiver = await startTestReceiver({ webhooks: { ...PROBE_WEBHOOK, sink: sink() } });
  const depth = 10_000;
  const bodies = [
    '['.repeat(depth) + ']'.repeat(depth),
    '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
    '['.repeat(depth), // never closed
    '[{"a":'.repeat(depth / 2) + 'null' + '}]'.repeat(depth / 2),
  ];
  const before = rss();
  for (const body of bodies) {
    const response = await post(receiver, 'sink', body);
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      detail: 'JSON too deeply nested: 51 levels (max: 50)',
      code: 'WC_JSON_TOO_DEEP',
    });
  }
  // Brackets inside a string are not nesting: a 10,000-bracket string value is an ordinary payload.
  const inString = JSON.stringify({ s: '['.repeat(depth) });
  assert.equal((await post(receiver, 'sink', inString)).statusCode, 200);
  // 50 levels is the limit and is accepted.
  assert.equal((await post(receiver, 'sink', '['.repeat(50) + ']'.repeat(50))).statusCode, 200);
  const growth = rss() - before;
  assert.ok(growth < 64 * MiB, `RSS grew by ${growth} bytes`);
  await assertStillServing(receiver);
});

/** Streams `total` bytes in 64 KiB chunks as fast as the socket takes them; chunked or with a length. */
function sendQuickly(
  url: string,
  total: number,
  declareLength: boolean,
): Promise<{ status: number; code: string | undefined; sent: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    let settled = false;
    const finish = (status: number, code: string | undefined) => {
      if (settled) return;
      settled = true;
      resolve({ status, code, sent });
    };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (declareLength) headers['content-length'] = String(total);
    const req = request(url, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(body) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        finish(res.statusCode ?? 0, code);
        req.destroy();
      });
    });
    // The server may close the socket while we are still writing: the 413 was sent before, or the
    // reset itself is the refusal. Either way the body was not taken.
    req.on('error', () => finish(-1, undefined));
    const chunk = Buffer.alloc(64 * KiB, 0x20);
    const pump = () => {
      while (sent < total && !settled) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!settled) req.end();
    };
    pump();
  });
}

function countServerBytes(r: TestReceiver): () => number {
  let total = 0;
  const open = new Set<Socket>();
  r.app.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      total += socket.bytesRead;
    });
  });
  return () => total + [...open].reduce((sum, socket) => sum + socket.bytesRead, 0);
}

test('a 100 MiB body sent quickly is refused at the 10 MiB default limit, with bounded memory', async (t) => {
  receiver = await startTestReceiver({ webhooks: { ...PROBE_WEBHOOK, sink: sink() } });
  const base = await receiver.listen();
  const serverBytes = countServerBytes(receiver);
  const before = rss();

  // Declared length: refused from the headers alone, before a byte of body is read.
  const declared = await sendQuickly(`${base}/webhook/sink`, 100 * MiB, true);
  assert.ok(declared.status === 413 || declared.status === -1, `declared: ${declared.status}`);
  if (declared.status === 413) assert.equal(declared.code, 'WC_BODY_TOO_LARGE');

  // Chunked, no length: cut off at the first chunk that crosses the limit.
  const chunked = await sendQuickly(`${base}/webhook/sink`, 100 * MiB, false);
  assert.ok(chunked.status === 413 || chunked.status === -1, `chunked: ${chunked.status}`);
  if (chunked.status === 413) assert.equal(chunked.code, 'WC_BODY_TOO_LARGE');
  assert.ok(chunked.sent < 100 * MiB, 'the client was stopped before sending the whole body');

  await sleep(100);
  const read = serverBytes();
  // 10 MiB limit, plus what was in flight in socket buffers when the limit was crossed.
  assert.ok(read < 24 * MiB, `server read ${read} bytes of two 100 MiB bodies`);
  const growth = rss() - before;
  t.diagnostic(
    `declared: ${declared.status}, chunked: ${chunked.status} after ${chunked.sent} bytes sent; ` +
      `server read ${read} bytes; RSS growth ${growth} bytes`,
  );
  assert.ok(growth < 64 * MiB, `RSS grew by ${growth} bytes`);
  await assertStillServing(receiver, base);
});

test('a 100 MiB body trickled slowly is cut off at the (lowered) limit, without holding memory', async (t) => {
  const limit = 512 * KiB;
  receiver = await startTestReceiver({
    webhooks: { ...PROBE_WEBHOOK, sink: sink() },
    env: { MAX_BODY_BYTES: String(limit) },
  });
  const base = await receiver.listen();
  const serverBytes = countServerBytes(receiver);
  const client = new RawClient(portOf(base));
  clients.push(client);
  await client.connected();
  client.write(
    'POST /webhook/sink HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      `Transfer-Encoding: chunked\r\n\r\n`,
  );
  // 16 KiB every 100 ms (160 KiB/s): the limit is crossed after ~3.2 s of trickling.
  const piece = Buffer.alloc(16 * KiB, 0x20);
  const frame = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
  let sent = 0;
  const started = Date.now();
  while (sent < 100 * MiB && Date.now() - started < 8000 && client.write(frame)) {
    sent += piece.length;
    await sleep(100);
    if (client.text().includes('\r\n\r\n')) break; // the server answered
  }
  const result = await client.waitClosed(2000);
  t.diagnostic(
    `${result.status} ${result.json?.code ?? ''} after ${sent} bytes in ${Date.now() - started} ms; ` +
      `server read ${serverBytes()} bytes; closed by server: ${result.closedByServer}`,
  );
  assert.equal(result.status, 413, `answered ${result.status} after ${sent} bytes`);
  assert.equal(result.json?.code, 'WC_BODY_TOO_LARGE');
  assert.ok(result.closedByServer, 'the server closed the connection after the 413');
  assert.ok(sent >= limit && sent < limit + 256 * KiB, `cut off after ${sent} bytes (limit ${limit})`);
  assert.ok(serverBytes() < limit + 512 * KiB, `server read ${serverBytes()} bytes`);
  await assertStillServing(receiver, base);
});

test('a slow body under the limit is held by the request timeout (120 s), not forever', async () => {
  // The timeout itself is too long for a unit test; what can fail here is the setting being dropped.
  receiver = await startTestReceiver({ webhooks: PROBE_WEBHOOK });
  assert.equal(receiver.app.server.requestTimeout, 120_000);
  assert.ok(receiver.app.server.headersTimeout > 0 && receiver.app.server.headersTimeout <= 15_000);
});

/**
 * Hostile request heads, over a real socket: oversized and numerous headers, 100 KiB query strings, and
 * slow-headers clients. The defined outcomes: our own header budget (`MAX_HEADER_BYTES`, default 64 KiB;
 * `MAX_HEADER_COUNT`, default 100) answers 431 `WC_HEADERS_TOO_LARGE` / 400 `WC_HEADERS_INVALID`; a head
 * beyond Node's parser cap (`MAX_HEADER_BYTES` + 8 KiB, request line included) is refused by the parser
 * with 431 `WC_HEADERS_TOO_LARGE` and the connection is closed; a malformed head is 400 `WC_BAD_REQUEST`; a
 * client that never finishes its headers does not hold up anyone else and is cut off by the headers
 * timeout (408 `WC_REQUEST_TIMEOUT`).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';
import {
  assertStillServing,
  KiB,
  MiB,
  portOf,
  PROBE_WEBHOOK,
  RawClient,
  rawRequest,
  rss,
  sleep,
} from './helpers.js';

let receiver: TestReceiver | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await receiver?.stop();
  receiver = undefined;
});

/** A complete POST with a `{}` body, the given request target and extra header lines. */
function post(target: string, headers: readonly string[] = []): string {
  const lines = ['Host: x', 'Content-Type: application/json', 'Content-Length: 2', ...headers];
  return `POST ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n{}`;
}

async function listening(env: Record<string, string> = {}): Promise<{ base: string; port: number }> {
  receiver = await startTestReceiver({ webhooks: PROBE_WEBHOOK, env });
  const base = await receiver.listen();
  return { base, port: portOf(base) };
}

test('headers over the 64 KiB budget answer 431 WC_HEADERS_TOO_LARGE', async () => {
  const { base, port } = await listening();
  const result = await rawRequest(port, post('/webhook/probe', [`X-Big: ${'a'.repeat(66 * KiB)}`]));
  assert.equal(result.status, 431);
  assert.equal(result.json?.code, 'WC_HEADERS_TOO_LARGE');
  // Spread over many lines it is the same budget.
  const many = Array.from({ length: 90 }, (_, i) => `X-H${i}: ${'b'.repeat(760)}`);
  const spread = await rawRequest(port, post('/webhook/probe', many));
  assert.equal(spread.status, 431);
  assert.equal(spread.json?.code, 'WC_HEADERS_TOO_LARGE');
  await assertStillServing(receiver!, base);
});

test('a head beyond the parser cap (80 KiB, 1 MiB, 8 MiB) is refused with 431 and the connection closed', async () => {
  const { base, port } = await listening();
  const before = rss();
  for (const size of [80 * KiB, MiB, 8 * MiB]) {
    const result = await rawRequest(port, post('/webhook/probe', [`X-Big: ${'a'.repeat(size)}`]));
    assert.equal(result.status, 431, `${size}-byte header answered ${result.status}`);
    assert.equal(result.json?.code, 'WC_HEADERS_TOO_LARGE');
    assert.ok(result.closedByServer, `${size}-byte header: connection left open`);
  }
  const growth = rss() - before;
  assert.ok(growth < 64 * MiB, `RSS grew by ${growth} bytes`);
  await assertStillServing(receiver!, base);
});

test('numerous headers: 101 and 3,000 lines answer 400 WC_HEADERS_INVALID; 10,000 overflow the head (431)', async () => {
  const { base, port } = await listening();
  for (const count of [101, 3000]) {
    const headers = Array.from({ length: count }, (_, i) => `X-H${i}: v`);
    const result = await rawRequest(port, post('/webhook/probe', headers));
    assert.equal(result.status, 400, `${count} headers answered ${result.status}`);
    assert.equal(result.json?.code, 'WC_HEADERS_INVALID');
    assert.match(result.json?.detail ?? '', /^Too many headers: \d+ \(max: 100\)$/);
  }
  // 10,000 lines are more bytes than the parser takes: refused before any handler runs.
  const flood = await rawRequest(
    port,
    post(
      '/webhook/probe',
      Array.from({ length: 10_000 }, (_, i) => `X-H${i}: v`),
    ),
  );
  assert.equal(flood.status, 431);
  assert.equal(flood.json?.code, 'WC_HEADERS_TOO_LARGE');
  assert.ok(flood.closedByServer);
  // 97 extra lines plus Host, Content-Type and Content-Length is exactly 100: accepted.
  const atLimit = Array.from({ length: 97 }, (_, i) => `X-H${i}: v`);
  assert.equal((await rawRequest(port, post('/webhook/probe', atLimit))).status, 200);
  await assertStillServing(receiver!, base);
});

test('header values with forbidden characters answer 400', async () => {
  const { base, port } = await listening();
  // U+2028 as UTF-8 bytes (Node passes them through; our checker refuses them).
  const separator = Buffer.from('X-Sep: a\u2028b', 'utf8').toString('latin1');
  const result = await rawRequest(port, Buffer.from(post('/webhook/probe', [separator]), 'latin1'));
  assert.equal(result.status, 400);
  assert.equal(result.json?.code, 'WC_HEADERS_INVALID');
  // A bare CR inside a value or a NUL is a parse error at Node's level: 400 and the connection closes.
  for (const bad of ['X-Bad: a\rb', 'X-Bad: a\0b']) {
    const refused = await rawRequest(port, post('/webhook/probe', [bad]));
    assert.equal(refused.status, 400, `${JSON.stringify(bad)} answered ${refused.status}`);
    assert.equal(refused.json?.code, 'WC_BAD_REQUEST');
    assert.ok(refused.closedByServer);
  }
  await assertStillServing(receiver!, base);
});

test('a 100 KiB query string: 431 at the default budget; accepted and parsed when the budget allows it', async () => {
  const query = `?q=${'a'.repeat(100 * KiB)}`;
  const manyParams = `?${Array.from({ length: 10_000 }, (_, i) => `k${i}=${'v'.repeat(5)}`).join('&')}`;
  assert.ok(manyParams.length > 100 * KiB);
  {
    const { base, port } = await listening();
    for (const target of [`/webhook/probe${query}`, `/webhook/probe${manyParams}`, `/stats${query}`]) {
      const result = await rawRequest(port, post(target));
      assert.equal(result.status, 431, `${target.slice(0, 30)}… answered ${result.status}`);
      assert.equal(result.json?.code, 'WC_HEADERS_TOO_LARGE');
      assert.ok(result.closedByServer);
    }
    // Just under the cap is an ordinary request.
    assert.equal((await rawRequest(port, post(`/webhook/probe?q=${'a'.repeat(60 * KiB)}`))).status, 200);
    await assertStillServing(receiver!, base);
    await receiver!.stop();
    receiver = undefined;
  }
  {
    const { base, port } = await listening({ MAX_HEADER_BYTES: String(256 * KiB) });
    for (const target of [`/webhook/probe${query}`, `/webhook/probe${manyParams}`]) {
      const result = await rawRequest(port, post(target));
      assert.equal(result.status, 200, `${target.slice(0, 30)}… answered ${result.status}`);
    }
    // Prototype-looking parameter names are plain data.
    const proto = await rawRequest(port, post('/webhook/probe?__proto__=x&constructor=y&toString=z&a[b]=c'));
    assert.equal(proto.status, 200);
    await assertStillServing(receiver!, base);
  }
});

/** Opens a connection that sends a request line and then one header line every `everyMs`, forever. */
function slowHeaders(port: number, everyMs: number): { client: RawClient; stop: () => void } {
  const client = new RawClient(port);
  clients.push(client);
  let stopped = false;
  void (async () => {
    await client.connected().catch(() => undefined);
    client.write('POST /webhook/probe HTTP/1.1\r\nHost: x\r\n');
    for (let i = 0; !stopped && client.write(`X-Slow-${i}: ${i}\r\n`); i++) await sleep(everyMs);
  })();
  return { client, stop: () => (stopped = true) };
}

test('slow-headers clients do not hold up other clients', async () => {
  const { base, port } = await listening();
  const slow = Array.from({ length: 50 }, () => slowHeaders(port, 200));
  await sleep(300);
  for (let i = 0; i < 20; i++) await assertStillServing(receiver!, base);
  await sleep(1500);
  for (let i = 0; i < 20; i++) await assertStillServing(receiver!, base);
  // They are still trickling (nothing has answered them yet): the server is not blocked by them either.
  assert.ok(slow.every(({ client }) => client.text() === ''));
  for (const { stop } of slow) stop();
});

test(
  'a slow-headers client is closed by the headers timeout within 20 s',
  {
    timeout: 30_000,
  },
  async () => {
    const { base, port } = await listening();
    const started = Date.now();
    const { client, stop } = slowHeaders(port, 1000);
    const result = await client.waitClosed(20_000);
    stop();
    assert.ok(result.closedByServer, `still open after ${Date.now() - started} ms`);
    assert.equal(result.status, 408);
    assert.equal(result.json?.code, 'WC_REQUEST_TIMEOUT');
    await assertStillServing(receiver!, base);
  },
);

test('refusals made by the HTTP parser carry the {detail, code} error body', {}, async () => {
  const { port } = await listening();
  const result = await rawRequest(port, post('/webhook/probe', [`X-Big: ${'a'.repeat(MiB)}`]));
  assert.equal(result.status, 431);
  assert.equal(result.json?.code, 'WC_HEADERS_TOO_LARGE');
});

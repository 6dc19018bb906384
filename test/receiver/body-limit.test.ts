import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';

const MiB = 1024 * 1024;
let receiver: TestReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

/** Streams `total` bytes in 64 KiB chunks without Content-Length (chunked), as fast as the socket takes them. */
function streamBody(url: string, total: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

test('a 50 MiB chunked body to a 10 MiB webhook is refused with 413 without being read', async () => {
  receiver = await startTestReceiver({ webhooks: { small: { module: 'log' } } });
  const base = await receiver.listen();
  let bytesRead = 0;
  receiver.app.server.on('connection', (socket: Socket) =>
    socket.on('close', () => (bytesRead += socket.bytesRead)),
  );
  const rssBefore = process.memoryUsage().rss;

  const response = await streamBody(`${base}/webhook/small`, 50 * MiB).catch(
    (error: NodeJS.ErrnoException) => {
      // The server may close the socket while the client is still writing; the 413 was sent first.
      return { status: error.code === 'EPIPE' || error.code === 'ECONNRESET' ? 413 : 0, body: '' };
    },
  );
  assert.equal(response.status, 413);
  if (response.body !== '') assert.equal(JSON.parse(response.body).code, 'WC_BODY_TOO_LARGE');

  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(bytesRead < 20 * MiB, `server read ${bytesRead} bytes of a 50 MiB body`);
  const growth = process.memoryUsage().rss - rssBefore;
  assert.ok(growth < 40 * MiB, `RSS grew by ${growth} bytes`);
});

test('a declared Content-Length over the limit is refused before the body is read', async () => {
  receiver = await startTestReceiver({ webhooks: { tiny: { module: 'log', max_body_bytes: 100 } } });
  const response = await receiver.app.inject({
    method: 'POST',
    url: '/webhook/tiny',
    payload: JSON.stringify({ padding: 'x'.repeat(200) }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(response.statusCode, 413);
  assert.deepEqual(response.json(), {
    detail: 'Payload too large: 214 bytes (max: 100)',
    code: 'WC_BODY_TOO_LARGE',
  });
  assert.equal(response.headers.connection, 'close');
});

test('a body exactly at the limit is accepted', async () => {
  const body = JSON.stringify({ padding: 'x'.repeat(86) });
  receiver = await startTestReceiver({ webhooks: { tiny: { module: 'log', max_body_bytes: body.length } } });
  const response = await receiver.app.inject({
    method: 'POST',
    url: '/webhook/tiny',
    payload: body,
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(response.statusCode, 200);
});

/**
 * Shutdown: a request in progress when `app.close()` begins is served to the end; a request that arrives
 * afterwards on the same kept-alive connection (pipelined) gets the coded 503 `WC_SHUTTING_DOWN` with
 * `Retry-After`, and the connection is closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startTestReceiver } from '../harness/receiver.js';

test('during shutdown a request in progress is served; the next one gets 503 WC_SHUTTING_DOWN', async () => {
  const receiver = await startTestReceiver({ webhooks: { hook: { module: 'log' } } });
  const base = new URL(await receiver.listen());
  const socket = connect(Number(base.port), base.hostname);
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  try {
    const body = '{"n":1}';
    const head = (length: number) =>
      `POST /webhook/hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    // The first request's head and half its body: it is past routing and hooks, reading its body.
    socket.write(head(body.length) + body.slice(0, 3));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const closing = receiver.app.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The rest of the first body, then a second request on the same connection.
    socket.write(body.slice(3) + head(body.length) + body);
    await ended;
    await closing;

    const responses = received.split(/(?=HTTP\/1\.1 )/);
    assert.equal(responses.length, 2, received);
    assert.match(responses[0] as string, /^HTTP\/1\.1 200 /);
    const refusal = responses[1] as string;
    assert.match(refusal, /^HTTP\/1\.1 503 /);
    assert.match(refusal, /\r\nretry-after: 5\r\n/i);
    assert.match(refusal, /\r\nconnection: close\r\n/i);
    const json = JSON.parse(refusal.slice(refusal.indexOf('\r\n\r\n') + 4)) as { code: string };
    assert.equal(json.code, 'WC_SHUTTING_DOWN');
  } finally {
    socket.destroy();
    await receiver.stop();
  }
});

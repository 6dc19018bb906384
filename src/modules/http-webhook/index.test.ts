import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../observability/logger.js';
import { PermanentDeliveryError, TransientDeliveryError } from '../../shared/delivery-errors.js';
import { isWebhookConnectError } from '../../shared/errors.js';
import { runWithRetry } from '../retry.js';
import { retrySchema } from '../schemas.js';
import type { Publisher, WebhookEvent } from '../types.js';
import { httpWebhookModule, sanitiseHeaders } from './index.js';
import { httpWebhookConfigSchema } from './schema.js';

interface Received {
  method: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server;
let port: number;
let received: Received[];
let answer: (req: IncomingMessage, res: ServerResponse, n: number) => void;
const publishers: Publisher[] = [];

beforeEach(async () => {
  received = [];
  answer = (_req, res) => res.end('ok');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      answer(req, res, received.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  await Promise.all(publishers.splice(0).map((publisher) => publisher.close()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function event(payload: unknown, headers: Record<string, string> = {}): WebhookEvent {
  return {
    webhookId: 'hook',
    configKey: 'hook',
    messageId: 'msg-1',
    receivedAt: new Date(),
    payload,
    headers,
    rawBody: Buffer.from(JSON.stringify(payload)),
    rawHeaders: headers,
    contentType: 'application/json',
    query: {},
  };
}

async function publisher(moduleConfig: Record<string, unknown>, allowedHosts: string[] = ['127.0.0.1']) {
  const created = await httpWebhookModule.create(
    { moduleConfig: httpWebhookConfigSchema.parse(moduleConfig), connection: undefined, webhookId: 'hook' },
    { logger: silentLogger(), outbound: { allowedHosts } },
  );
  publishers.push(created);
  return created;
}

const signal = () => new AbortController().signal;

test('posts the JSON payload with configured headers to an allow-listed local server', async () => {
  const target = await publisher({
    url: `http://127.0.0.1:${port}/hook`,
    headers: { 'X-Token': 'abc', Connection: 'close', 'Bad Name': 'x', 'x-evil': 'a\r\nb' },
    forward_headers: true,
    allowed_headers: ['x-github-event', 'content-type'],
  });
  await target.deliver(event({ a: 1 }, { 'x-github-event': 'push', 'x-other': 'no' }), signal());
  assert.equal(received.length, 1);
  const [request] = received;
  assert.equal(request!.method, 'POST');
  assert.deepEqual(JSON.parse(request!.body.toString()), { a: 1 });
  assert.equal(request!.headers['content-type'], 'application/json');
  assert.equal(request!.headers['x-token'], 'abc');
  assert.equal(request!.headers['x-github-event'], 'push');
  assert.equal(request!.headers['x-other'], undefined);
  assert.equal(request!.headers['x-evil'], undefined);
});

test('blob payloads are sent as raw bytes with their content type, using PUT', async () => {
  const target = await publisher({ url: `http://127.0.0.1:${port}/`, method: 'put' });
  const bytes = Buffer.from([0, 1, 2, 255]);
  await target.deliver({ ...event(null), payload: bytes, contentType: 'application/pdf' }, signal());
  assert.equal(received[0]!.method, 'PUT');
  assert.deepEqual(received[0]!.body, bytes);
  assert.equal(received[0]!.headers['content-type'], 'application/pdf');
});

test('127.0.0.1 is refused at create unless allow-listed', async () => {
  await assert.rejects(
    publisher({ url: `http://127.0.0.1:${port}/` }, []),
    (error) => isWebhookConnectError(error) && error.code === 'WC_SSRF_BLOCKED',
  );
  assert.equal(received.length, 0);
});

test('a DNS name resolving to loopback (localhost) is refused at connection time', async () => {
  const target = await publisher({ url: `http://localhost:${port}/` }, []);
  await assert.rejects(
    target.deliver(event({}), signal()),
    (error) => isWebhookConnectError(error) && error.code === 'WC_SSRF_BLOCKED',
  );
  assert.equal(received.length, 0);
});

test('the cloud metadata address is refused', async () => {
  await assert.rejects(
    publisher({ url: 'http://169.254.169.254/latest/meta-data/' }, ['169.254.0.0/16']),
    (error) => isWebhookConnectError(error) && error.code === 'WC_SSRF_BLOCKED',
  );
});

test('module allowed_hosts adds to the policy and restricts the target host', async () => {
  const target = await publisher({ url: `http://127.0.0.1:${port}/`, allowed_hosts: ['127.0.0.1'] }, []);
  await target.deliver(event({ ok: true }), signal());
  assert.equal(received.length, 1);
  await assert.rejects(
    publisher({ url: 'https://example.com/', allowed_hosts: ['127.0.0.1'] }, []),
    (error) => isWebhookConnectError(error),
  );
});

test('503 then 200 is retried by the retry handler and succeeds', async () => {
  answer = (_req, res, n) => {
    res.statusCode = n === 1 ? 503 : 200;
    res.end();
  };
  const target = await publisher({ url: `http://127.0.0.1:${port}/` });
  const retry = retrySchema.parse({ enabled: true, max_attempts: 3, initial_delay: 0, max_delay: 0 });
  const outcome = await runWithRetry((s) => target.deliver(event({ n: 1 }), s), retry, signal());
  assert.equal(outcome.ok, true);
  assert.equal(outcome.attempts, 2);
  assert.equal(received.length, 2);
});

test('400 is permanent and not retried', async () => {
  answer = (_req, res) => {
    res.statusCode = 400;
    res.end();
  };
  const target = await publisher({ url: `http://127.0.0.1:${port}/` });
  const retry = retrySchema.parse({ enabled: true, max_attempts: 5, initial_delay: 0, max_delay: 0 });
  const outcome = await runWithRetry((s) => target.deliver(event({}), s), retry, signal());
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok && outcome.error instanceof PermanentDeliveryError);
  assert.equal(outcome.attempts, 1);
  assert.equal(received.length, 1);
});

test('a stalled target times out as a transient failure', async () => {
  answer = () => undefined; // never answers
  const target = await publisher({ url: `http://127.0.0.1:${port}/`, timeout: 0.2 });
  await assert.rejects(
    target.deliver(event({}), signal()),
    (error) => error instanceof TransientDeliveryError && /timed out/.test(error.message),
  );
});

test('a refused connection is transient', async () => {
  const target = await publisher({ url: `http://127.0.0.1:1/` });
  const outcome = await runWithRetry((s) => target.deliver(event({}), s), undefined, signal());
  assert.ok(!outcome.ok && outcome.error instanceof TransientDeliveryError);
});

test('header sanitising drops hop-by-hop, invalid names and unsafe values', () => {
  assert.deepEqual(
    sanitiseHeaders({
      Host: 'x',
      'Transfer-Encoding': 'chunked',
      'Content-Length': '5',
      'X-Ok': '  fine  ',
      'bad name': 'x',
      'x-nul': 'a\0b',
      'x-ls': 'a\u2028b',
      'x-long': 'v'.repeat(8193),
      ['n'.repeat(201)]: 'x',
    }),
    { 'x-ok': 'fine' },
  );
});

test('config errors: bad scheme and method', () => {
  assert.throws(() => httpWebhookConfigSchema.parse({ url: 'http://x', method: 'DELETE' }));
  assert.throws(
    () =>
      httpWebhookModule.create(
        {
          moduleConfig: httpWebhookConfigSchema.parse({ url: 'ftp://example.com/' }),
          connection: undefined,
          webhookId: 'h',
        },
        { logger: silentLogger(), outbound: { allowedHosts: [] } },
      ),
    (error) => isWebhookConnectError(error) && error.code === 'WC_SSRF_BLOCKED',
  );
});

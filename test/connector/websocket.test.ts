import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { startRecordingTarget, type RecordingTarget } from '../harness/recording-target.js';
import { startReferenceRelay, type ReferenceRelay } from '../harness/reference-relay.js';
import {
  baseConfig,
  configFrom,
  delay,
  removeTempDirs,
  startConnector,
  stopConnectors,
  waitUntil,
} from './helpers.js';

let relay: ReferenceRelay | undefined;
let target: RecordingTarget | undefined;

afterEach(async () => {
  await stopConnectors();
  await relay?.close();
  await target?.close();
  relay = undefined;
  target = undefined;
  removeTempDirs();
});

async function setup(
  options: Parameters<typeof startReferenceRelay>[0] = {},
  extra: Record<string, unknown> = {},
) {
  relay = await startReferenceRelay(options);
  target = await startRecordingTarget();
  const config = configFrom(baseConfig(relay, { default_target: { url: `${target.url}/hook` }, ...extra }));
  const connector = await startConnector(config);
  return { relay, target, connector };
}

test('websocket: exact bytes (binary and odd-whitespace JSON), provider headers and signature reach the target', async () => {
  const { relay, target } = await setup({ additive: true });
  const secret = 'github-secret';
  const json = Buffer.from('{ "action" :"opened",\n\t"number":  1 ,"x":[ ] }  \n', 'utf8');
  const binary = randomBytes(4096);
  const signature = `sha256=${createHmac('sha256', secret).update(json).digest('hex')}`;
  const jsonId = relay.publish({
    webhookId: 'github',
    body: json,
    headers: {
      'x-hub-signature-256': signature,
      'x-github-event': 'pull_request',
      connection: 'keep-alive',
      host: 'cloud.example',
    },
  });
  const blobId = relay.publish({ webhookId: 'files', body: binary, contentType: 'application/octet-stream' });
  await relay.waitFor(() => relay.acked().length === 2, 'both acked');

  const byId = (id: string) => target.requests.find((r) => r.headers['x-webhook-message-id'] === id)!;
  const first = byId(jsonId);
  assert.equal(first.method, 'POST');
  assert.equal(first.path, '/hook');
  assert.ok(first.body.equals(json), 'JSON bytes identical');
  const expected = `sha256=${createHmac('sha256', secret).update(first.body).digest('hex')}`;
  assert.equal(first.headers['x-hub-signature-256'], expected, 'signature verifies at the target');
  assert.equal(first.headers['x-github-event'], 'pull_request');
  assert.equal(first.headers['content-type'], 'application/json');
  assert.equal(first.headers['x-webhook-id'], 'github');
  assert.equal(first.headers['idempotency-key'], jsonId);
  assert.equal(first.headers['x-webhook-delivery-count'], '1');
  assert.notEqual(first.headers.host, 'cloud.example', 'Host is not copied');

  const second = byId(blobId);
  assert.ok(second.body.equals(binary), 'binary bytes identical');
  assert.equal(second.headers['content-type'], 'application/octet-stream');

  const handshake = relay.requests.find((r) => r.protocol === 'websocket')!;
  assert.equal(handshake.headers.authorization, `Bearer ${relay.token}`);
  assert.equal(handshake.headers['x-connector-id'], 'test-connector');
  assert.ok(!handshake.url.includes(relay.token), 'token never in the URL');
});

test('websocket against reference-only frames: payload serialised as JSON, acked', async () => {
  const { relay, target } = await setup({ additive: false });
  const id = relay.publish({ webhookId: 'plain', body: '{"a": 1, "b": [true, null]}' });
  await relay.waitFor(() => relay.acked().includes(id), 'ack');
  assert.equal(target.requests[0]!.body.toString('utf8'), '{"a":1,"b":[true,null]}');
  assert.equal(target.requests[0]!.headers['content-type'], 'application/json');
});

test('websocket: a dropped connection is replaced and in-flight messages are redelivered', async () => {
  const { relay, target, connector } = await setup({ additive: true });
  target.setMode({ kind: 'stall' });
  const id = relay.publish({ webhookId: 'a', body: '{}' });
  await waitUntil(() => target.requests.length === 1, 'first attempt');
  relay.dropConnections();
  await waitUntil(() => relay.acceptedConnections() >= 2 && connector.state === 'connected', 'reconnected');
  target.setMode({ kind: 'succeed' });
  await relay.waitFor(() => relay.acked().includes(id), 'acked after reconnect');
  assert.ok(connector.status().reconnects >= 1);
});

test('websocket: a relay that stops sending heartbeats (half-open socket) is detected and replaced', async () => {
  const { relay, target, connector } = await setup(
    { heartbeatIntervalMs: 100, additive: true },
    { heartbeat_timeout: 0.5 },
  );
  await waitUntil(() => connector.state === 'connected', 'connected');
  relay.silenceOpenConnections();
  await waitUntil(() => relay.acceptedConnections() >= 2, 'a new connection after the deadline', 5000);
  const id = relay.publish({ webhookId: 'a', body: '{"after":"reconnect"}' });
  await relay.waitFor(() => relay.acked().includes(id), 'delivered on the new connection');
  assert.equal(target.requests.length, 1);
});

test('websocket: a rejected token (HTTP 403 handshake) is reported and retried slowly', async () => {
  relay = await startReferenceRelay();
  target = await startRecordingTarget();
  const lines: string[] = [];
  const { pino } = await import('pino');
  const sink = { write: (line: string) => lines.push(line) };
  const logger = pino({ level: 'info' }, sink as unknown as NodeJS.WritableStream);
  const config = configFrom(
    baseConfig(relay, {
      token: 'wrong',
      default_target: { url: target.url },
      reconnect_delay: 0.01,
      max_reconnect_delay: 1,
    }),
  );
  const connector = await startConnector(config, { logger });
  await delay(1200);
  const attempts = relay.requests.filter((r) => r.protocol === 'websocket').length;
  assert.ok(attempts >= 1 && attempts <= 3, `slow retries, got ${attempts} attempts in 1.2 s`);
  assert.ok(
    lines.some((line) => line.includes('rejected the channel token')),
    'clear error logged',
  );
  assert.notEqual(connector.state, 'connected');
  // After the token is fixed on the relay side (same token now accepted), the connector gets in.
  relay.setToken('wrong');
  await waitUntil(() => connector.state === 'connected', 'connected with the accepted token', 5000);
});

/** Delivery semantics: retries, outcomes, dedup, concurrency, graceful shutdown, status server. */
import assert from 'node:assert/strict';
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

async function setup(extra: Record<string, unknown> = {}, targetExtra: Record<string, unknown> = {}) {
  relay = await startReferenceRelay({ additive: true });
  target = await startRecordingTarget();
  const config = configFrom(
    baseConfig(relay, {
      default_target: { url: target.url, retry_delay_seconds: 0.01, ...targetExtra },
      ...extra,
    }),
  );
  const connector = await startConnector(config);
  return { relay, target, connector };
}

test('target answers 503 for a while → nacked with retry, delivered once it recovers', async () => {
  const { relay, target } = await setup({}, { retry_max_attempts: 2 });
  target.setHandler((request) =>
    target!.requests.indexOf(request) < 4 ? { kind: 'fail', status: 503 } : undefined,
  );
  const id = relay.publish({ webhookId: 'w', body: '{"x":1}' });
  await relay.waitFor(() => relay.acked().includes(id), 'acked after recovery');
  assert.equal(target.requests.length, 5);
  assert.equal(relay.nacks.length, 2);
  assert.ok(relay.nacks.every((nack) => nack.retry && /HTTP 503/.test(nack.error ?? '')));
  assert.equal(relay.deadLetters().length, 0);
  assert.deepEqual(
    target.requests.map((r) => r.headers['x-webhook-delivery-count']),
    ['1', '1', '2', '2', '3'],
  );
  assert.ok(
    target.requests.every((r) => r.headers['idempotency-key'] === id),
    'same Idempotency-Key on every attempt',
  );
});

test('retry_enabled: false means exactly one attempt per delivery', async () => {
  const { relay, target } = await setup({}, { retry_enabled: false, retry_max_attempts: 5 });
  target.setHandler((request) =>
    target!.requests.indexOf(request) === 0 ? { kind: 'fail', status: 503 } : undefined,
  );
  const id = relay.publish({ webhookId: 'w', body: '{}' });
  await relay.waitFor(() => relay.acked().includes(id), 'acked on the redelivery');
  assert.equal(relay.nacks.length, 1, 'the first delivery was nacked after one attempt');
  assert.equal(target.requests.length, 2);
});

test('per-target method, headers and timeout; a stalled target is a transient failure', async () => {
  const { relay, target } = await setup(
    {},
    { method: 'put', headers: { 'X-Api-Key': 'local' }, timeout_seconds: 0.2, retry_max_attempts: 1 },
  );
  target.setHandler((request) => (target!.requests.indexOf(request) === 0 ? { kind: 'stall' } : undefined));
  const id = relay.publish({ webhookId: 'w', body: '{}', headers: { 'x-api-key': 'from-provider' } });
  await relay.waitFor(() => relay.acked().includes(id), 'acked after the timeout and a redelivery');
  assert.match(relay.nacks[0]?.error ?? '', /timed out/);
  assert.equal(target.requests[1]!.method, 'PUT');
  assert.equal(target.requests[1]!.headers['x-api-key'], 'local', 'target headers win');
});

test('dedup: a redelivery after a lost ack is acked without reaching the target again', async () => {
  const { relay, target } = await setup();
  relay.loseNextAcks(1);
  const id = relay.publish({ webhookId: 'w', body: '{}' });
  await waitUntil(() => target.requests.length === 1, 'delivered');
  await delay(50);
  assert.equal(relay.acked().length, 0, 'the ack was lost');
  relay.dropConnections(); // the relay requeues the unacked message and redelivers it
  await relay.waitFor(() => relay.acked().includes(id), 'acked from the dedup window');
  assert.equal(target.requests.length, 1);
});

test('dedup: a message redelivered while its first delivery still runs is delivered once', async () => {
  const { relay, target, connector } = await setup();
  target.setMode({ kind: 'stall' });
  const id = relay.publish({ webhookId: 'w', body: '{}' });
  await waitUntil(() => target.requests.length === 1, 'first delivery started');
  relay.dropConnections();
  // The relay sends the message right behind its `connected` frame: wait for the connector to read both.
  await waitUntil(
    () => relay.acceptedConnections() === 2 && relay.inFlightCount() === 1 && connector.state === 'connected',
    'redelivered on a new connection',
    5000,
  );
  target.setMode({ kind: 'succeed' });
  await relay.waitFor(() => relay.acked().includes(id), 'acked on the new connection');
  assert.equal(target.requests.length, 1);
});

test('max_concurrent_requests bounds deliveries in progress; the rest wait and all arrive', async () => {
  const { relay, target } = await setup({ max_concurrent_requests: 3 });
  target.setDelay(40);
  for (let i = 0; i < 20; i++) relay.publish({ webhookId: 'w', body: `{"i":${i}}` });
  await relay.waitFor(() => relay.acked().length === 20, 'all acked');
  assert.equal(target.maxActive(), 3);
  assert.equal(target.requests.length, 20);
});

test('graceful stop: in-flight deliveries finish and are acked, waiting ones are nacked', async () => {
  const { relay, target, connector } = await setup({ max_concurrent_requests: 1 });
  target.setMode({ kind: 'stall' });
  const first = relay.publish({ webhookId: 'w', body: '{"n":1}' });
  const others = [
    relay.publish({ webhookId: 'w', body: '{"n":2}' }),
    relay.publish({ webhookId: 'w', body: '{"n":3}' }),
  ];
  await waitUntil(
    () => target.requests.length === 1 && relay.inFlightCount() === 3,
    'one running, two waiting',
  );
  const stopped = connector.stop(5);
  await delay(100);
  target.setMode({ kind: 'succeed' });
  await stopped;
  assert.deepEqual(relay.acked(), [first]);
  assert.deepEqual(
    relay.nacks.map((n) => [n.messageId, n.retry]).sort(),
    others.map((id) => [id, true]).sort(),
  );
  assert.equal(connector.state, 'closed');
  assert.equal(target.requests.length, 1);
});

test('graceful stop: past the deadline running deliveries are aborted and nacked with retry', async () => {
  const { relay, target, connector } = await setup();
  target.setMode({ kind: 'stall' });
  const id = relay.publish({ webhookId: 'w', body: '{}' });
  await waitUntil(() => target.requests.length === 1, 'running');
  await connector.stop(0.2);
  assert.deepEqual(
    relay.nacks.map((n) => [n.messageId, n.retry]),
    [[id, true]],
  );
  assert.equal(relay.acked().length, 0);
});

test('status server: /health follows the connection, /metrics counts deliveries', async () => {
  const { relay, connector } = await setup({ status_port: 0 });
  await waitUntil(() => connector.state === 'connected', 'connected');
  const id = relay.publish({ webhookId: 'w', body: '{}' });
  await relay.waitFor(() => relay.acked().includes(id), 'acked');
  const health = await fetch(`${connector.statusUrl!}/health`);
  assert.equal(health.status, 200);
  const body = (await health.json()) as { state: string; config: Record<string, unknown> };
  assert.equal(body.state, 'connected');
  assert.ok(!JSON.stringify(body).includes(relay.token), 'no token in /health');
  const metrics = await (await fetch(`${connector.statusUrl!}/metrics`)).text();
  assert.match(metrics, /connector_deliveries_total\{result="success"\} 1/);
  assert.match(metrics, /connector_connection_state\{state="connected"\} 1/);
  assert.match(metrics, /connector_delivery_duration_seconds_count 1/);
  relay.setToken('rotated');
  relay.dropConnections();
  await waitUntil(() => connector.state !== 'connected', 'disconnected');
  assert.equal((await fetch(`${connector.statusUrl!}/health`)).status, 503);
  assert.match(
    await (await fetch(`${connector.statusUrl!}/metrics`)).text(),
    /connector_reconnects_total\{reason="closed"\} 1/,
  );
});

/** The same delivery scenario over each transport against the reference-frames relay. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { startRecordingTarget, type RecordingTarget } from '../harness/recording-target.js';
import { startReferenceRelay, type ReferenceRelay } from '../harness/reference-relay.js';
import {
  baseConfig,
  configFrom,
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

for (const protocol of ['websocket', 'sse', 'long_poll'] as const) {
  test(`${protocol}: 50 webhooks delivered byte-exact and acked, then again after the relay drops the connection`, async () => {
    relay = await startReferenceRelay({ additive: true, heartbeatIntervalMs: 200 });
    target = await startRecordingTarget();
    const config = configFrom(
      baseConfig(relay, {
        protocol,
        default_target: { url: target.url },
        poll_timeout: 1,
        max_concurrent_requests: 5,
      }),
    );
    const connector = await startConnector(config);
    const bodies = new Map<string, Buffer>();
    for (let i = 0; i < 50; i++) {
      const body = Buffer.from(`{"n": ${i} ,  "s":"caf\u00e9"}\r\n`, 'utf8');
      bodies.set(
        relay.publish({
          webhookId: 'w',
          body,
          headers: { 'x-signature': createHmac('sha256', 'k').update(body).digest('hex') },
        }),
        body,
      );
    }
    await relay.waitFor(() => relay!.acked().length === 50, 'all acked');
    for (const request of target.requests) {
      const id = String(request.headers['x-webhook-message-id']);
      assert.ok(request.body.equals(bodies.get(id)!), `body of ${id}`);
      assert.equal(
        request.headers['x-signature'],
        createHmac('sha256', 'k').update(request.body).digest('hex'),
      );
    }
    assert.equal(new Set(target.requests.map((r) => r.headers['x-webhook-message-id'])).size, 50);

    relay.dropConnections();
    const id = relay.publish({ webhookId: 'w', body: '{"after":"drop"}' });
    await relay.waitFor(() => relay!.acked().includes(id), 'delivered after the drop');
    assert.equal(connector.state, 'connected');
    const streamRequests = relay.requests.filter((r) => r.protocol === protocol);
    assert.ok(
      streamRequests.every(
        (r) => r.headers.authorization === `Bearer ${relay!.token}` && !r.url.includes(relay!.token),
      ),
    );
    assert.ok(streamRequests.every((r) => r.headers['x-connector-id'] === 'test-connector'));
    if (protocol !== 'websocket') {
      const acks = relay.requests.filter((r) => r.protocol === 'ack');
      assert.ok(acks.length >= 51, 'acks went over POST /connect/ack');
      assert.ok(acks.every((r) => r.url.includes('message_id=') && !r.url.includes(relay!.token)));
    }
  });

  test(`${protocol}: 400 from the target → nack without retry, the reason reaches the relay`, async () => {
    relay = await startReferenceRelay({ additive: true });
    target = await startRecordingTarget();
    target.setMode({ kind: 'fail', status: 400, body: 'missing field amount' });
    const config = configFrom(
      baseConfig(relay, { protocol, default_target: { url: target.url }, poll_timeout: 1 }),
    );
    await startConnector(config);
    const id = relay.publish({ webhookId: 'w', body: '{}' });
    await relay.waitFor(() => relay!.deadLetters().length === 1, 'dead letter');
    assert.equal(relay.deadLetters()[0]!.messageId, id);
    assert.match(relay.deadLetters()[0]!.error ?? '', /HTTP 400: missing field amount/);
    assert.equal(target.requests.length, 1, '4xx is not retried');
  });
}

test('sse: a relay that goes silent is detected by the heartbeat deadline', async () => {
  relay = await startReferenceRelay({ additive: true, heartbeatIntervalMs: 100 });
  target = await startRecordingTarget();
  const config = configFrom(
    baseConfig(relay, { protocol: 'sse', default_target: { url: target.url }, heartbeat_timeout: 0.5 }),
  );
  const connector = await startConnector(config);
  await waitUntil(() => connector.state === 'connected', 'connected');
  relay.silenceOpenConnections();
  await waitUntil(() => relay!.acceptedConnections() >= 2, 'reconnected after the deadline', 5000);
});

test('sse and long_poll: a rejected token (401) is reported as such and retried slowly', async () => {
  for (const protocol of ['sse', 'long_poll'] as const) {
    relay = await startReferenceRelay();
    const config = configFrom(
      baseConfig(relay, {
        protocol,
        token: 'bad',
        default_target: { url: 'http://127.0.0.1:9' },
        reconnect_delay: 0.01,
        max_reconnect_delay: 1,
      }),
    );
    const connector = await startConnector(config);
    await waitUntil(() => relay!.requests.length >= 1, 'first attempt');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(
      relay.requests.filter((r) => !r.accepted).length,
      1,
      `${protocol}: one attempt, then a slow delay`,
    );
    assert.notEqual(connector.state, 'connected');
    await stopConnectors();
    await relay.close();
    relay = undefined;
  }
});

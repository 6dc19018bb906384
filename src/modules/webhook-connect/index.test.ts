import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../observability/logger.js';
import { isWebhookConnectError } from '../../shared/errors.js';
import type { Publisher, RelayMessage, WebhookEvent } from '../types.js';
import { webhookConnectConfigSchema, webhookConnectModule } from './index.js';

const event = (overrides: Partial<WebhookEvent> = {}): WebhookEvent => {
  const raw = Buffer.from('{"password":"hunter2","n":1}');
  return {
    webhookId: 'stripe',
    configKey: 'stripe',
    messageId: 'm1',
    receivedAt: new Date(1_700_000_000_000),
    payload: { password: '***REDACTED***', n: 1 },
    headers: { authorization: '***REDACTED***', 'content-type': 'application/json' },
    rawBody: raw,
    rawHeaders: { authorization: 'Bearer provider-secret', 'content-type': 'application/json' },
    contentType: 'application/json',
    query: { a: '1' },
    ...overrides,
  };
};

test('schema: required channel and token, defaults of every setting', () => {
  assert.equal(webhookConnectConfigSchema.safeParse({ channel: 'c' }).success, false);
  assert.equal(webhookConnectConfigSchema.safeParse({ channel: '../x', channel_token: 't' }).success, false);
  assert.equal(webhookConnectConfigSchema.safeParse({ channel: 'c', channel_token: ' ' }).success, false);
  assert.equal(
    webhookConnectConfigSchema.safeParse({ channel: 'c', channel_token: 't', allowed_ips: ['nope'] }).success,
    false,
  );
  assert.equal(
    webhookConnectConfigSchema.safeParse({ channel: 'c', channel_token: 't', unknown_key: 1 }).success,
    false,
  );
  assert.deepEqual(webhookConnectConfigSchema.parse({ channel: 'c', channel_token: 't' }), {
    channel: 'c',
    channel_token: 't',
    ttl_seconds: 86_400,
    max_queue_size: 10_000,
    max_connections: 10,
    max_in_flight: 100,
    ack_timeout_seconds: 30,
    max_delivery_attempts: 10,
    retry_backoff: { initial: 1, max: 300 },
    heartbeat_interval_seconds: 30,
    max_message_size: 10 * 1024 * 1024,
    allowed_ips: [],
    ordered: false,
  });
  // {$VAR} substitution gives strings
  assert.equal(
    webhookConnectConfigSchema.parse({ channel: 'c', channel_token: 't', max_in_flight: '5' }).max_in_flight,
    5,
  );
});

async function publisherWith(
  config: Record<string, unknown>,
  relay?: (message: RelayMessage) => void,
): Promise<Publisher> {
  const moduleConfig = webhookConnectConfigSchema.parse({ channel: 'c', channel_token: 't', ...config });
  return webhookConnectModule.create(
    { moduleConfig, connection: undefined, webhookId: 'stripe' },
    {
      logger: silentLogger(),
      outbound: { allowedHosts: [] },
      ...(relay === undefined
        ? {}
        : {
            relay: {
              publish: async (message) => {
                relay(message);
                return { message_id: 'msg_1' };
              },
            },
          }),
    },
  );
}

test('deliver relays the exact request: raw body, raw headers, payload parsed from the raw bytes', async () => {
  const seen: RelayMessage[] = [];
  const publisher = await publisherWith({}, (message) => seen.push(message));
  await publisher.deliver(event(), new AbortController().signal);
  assert.equal(seen.length, 1);
  const message = seen[0]!;
  assert.equal(message.channel, 'c');
  assert.equal(message.webhook_id, 'stripe');
  assert.equal(message.body.toString(), '{"password":"hunter2","n":1}');
  assert.deepEqual(message.payload, { password: 'hunter2', n: 1 });
  assert.equal(message.headers.authorization, 'Bearer provider-secret');
  assert.equal(message.content_type, 'application/json');
  assert.deepEqual(message.query, { a: '1' });
  assert.equal(message.received_at, 1_700_000_000_000);
  assert.equal(webhookConnectModule.synchronous, true);
  assert.deepEqual(webhookConnectModule.secretFields, ['channel_token']);
});

test('binary (blob) bodies relay with payload null', async () => {
  const seen: RelayMessage[] = [];
  const publisher = await publisherWith({}, (message) => seen.push(message));
  const bytes = Buffer.from([0, 255, 1, 2]);
  await publisher.deliver(
    event({ payload: bytes, rawBody: bytes, contentType: 'application/octet-stream' }),
    new AbortController().signal,
  );
  assert.equal(seen[0]!.payload, null);
  assert.deepEqual(seen[0]!.body, bytes);
});

test('too large → WC_MESSAGE_TOO_LARGE; no relay → WC_RELAY_NOT_RUNNING (503 with Retry-After)', async () => {
  const small = await publisherWith({ max_message_size: 4 }, () => assert.fail('must not publish'));
  await assert.rejects(small.deliver(event(), new AbortController().signal), (error) => {
    return isWebhookConnectError(error) && error.code === 'WC_MESSAGE_TOO_LARGE' && error.status === 413;
  });
  const none = await publisherWith({});
  await assert.rejects(none.deliver(event(), new AbortController().signal), (error) => {
    return isWebhookConnectError(error) && error.status === 503 && error.retryAfterSeconds === 5;
  });
});

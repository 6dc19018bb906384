/**
 * The publish path of `webhook_connect` in process: channels exist from configuration, a 200 means the
 * message is stored (with the exact request), full queues and conflicting definitions are refused.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';
import { ADMIN, auth, http, post, relayWebhook, startRelay, TOKEN } from './helpers.js';

const open: TestReceiver[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.stop();
});

test('channels exist from configuration: status works before any webhook arrived', async () => {
  const { receiver, url } = await startRelay();
  open.push(receiver);
  const status = await http('GET', `${url}/connect/status/ch`, { headers: auth() });
  assert.equal(status.status, 200, status.text);
  const body = status.json();
  assert.equal(body.channel, 'ch');
  assert.equal(body.connected, true);
  assert.equal(body.stats.messages_queued, 0);
  assert.equal(body.stats.connected_clients, 0);
  assert.equal((await http('GET', `${url}/connect/status/ch`, { headers: auth('nope') })).status, 401);
  assert.equal((await http('GET', `${url}/connect/status/other`, { headers: auth() })).status, 401);
  assert.equal((await http('GET', `${url}/connect/status/ch`)).status, 422);
});

test('a 200 means stored: the exact body, original headers, content type and query are kept', async () => {
  const { receiver, url } = await startRelay({}, {});
  open.push(receiver);
  const raw = '{ "b": 2,  "password": "hunter2" }';
  const answer = await post(`${url}/webhook/hook?x=1`, raw, { authorization: 'Bearer provider-sig' });
  assert.equal(answer.status, 200, answer.text);
  const buffer = receiver.relay.service.buffer!;
  assert.equal(await buffer.depth('ch'), 1);
  const [message] = await buffer.lease('ch', 'inspector', 10);
  assert.ok(message);
  assert.equal(message.body.toString(), raw);
  assert.deepEqual(message.payload, { b: 2, password: 'hunter2' });
  assert.equal(message.headers.authorization, 'Bearer provider-sig');
  assert.equal(message.content_type, 'application/json');
  assert.deepEqual(message.query, { x: '1' });
  assert.equal(message.webhook_id, 'hook');
  assert.equal(message.metadata.sequence, 1);
});

test('queue full → 503 with Retry-After and WC_QUEUE_FULL; too large → 413', async () => {
  const { receiver, url } = await startRelay({ max_queue_size: 2, max_message_size: 100 });
  open.push(receiver);
  assert.equal((await post(`${url}/webhook/hook`, '{"n":1}')).status, 200);
  assert.equal((await post(`${url}/webhook/hook`, '{"n":2}')).status, 200);
  const full = await post(`${url}/webhook/hook`, '{"n":3}');
  assert.equal(full.status, 503);
  assert.equal(full.json().code, 'WC_QUEUE_FULL');
  assert.ok(Number(full.headers['retry-after']) >= 1);
  const big = await post(`${url}/webhook/hook`, JSON.stringify({ pad: 'x'.repeat(200) }));
  assert.equal(big.status, 413);
  assert.equal(big.json().code, 'WC_MESSAGE_TOO_LARGE');
  assert.equal(await receiver.relay.service.buffer!.depth('ch'), 2);
});

test('several webhooks may feed one channel with identical settings; different settings are a config error with the path', async () => {
  const receiver = await startTestReceiver({
    webhooks: { a: relayWebhook('shared'), b: relayWebhook('shared') },
    env: { WEBHOOK_CONNECT_BUFFER: 'sqlite' },
  });
  open.push(receiver);
  assert.deepEqual(receiver.relay.service.channel('shared')?.webhookIds, ['a', 'b']);
  await assert.rejects(
    startTestReceiver({
      webhooks: { a: relayWebhook('shared'), b: relayWebhook('shared', { max_in_flight: 5 }) },
    }),
    /b › module-config\.channel: channel 'shared' is already defined by a › module-config with different settings \(max_in_flight\)/,
  );
  // In a chain the path names the item; a different token is a conflict too, without showing it.
  await assert.rejects(
    startTestReceiver({
      webhooks: {
        a: relayWebhook('shared'),
        c: {
          data_type: 'json',
          chain: [
            { module: 'log' },
            { module: 'webhook_connect', 'module-config': { channel: 'shared', channel_token: 'other' } },
          ],
        },
      },
    }),
    (error: Error) =>
      /c › chain\[1\]\.module-config\.channel/.test(error.message) && !error.message.includes('other'),
  );
});

test('a reload registers new channels and keeps a rotated token; a conflicting reload is refused', async () => {
  const { receiver, url } = await startRelay();
  open.push(receiver);
  const rotated = await post(
    `${url}/admin/webhook-connect/channels/ch/rotate-token`,
    '{"grace_period_seconds":0}',
    {
      authorization: `Bearer ${ADMIN}`,
    },
  );
  assert.equal(rotated.status, 200, rotated.text);
  const newToken = rotated.json().new_token as string;
  assert.match(newToken, /^ch_tok_[0-9a-f]{48}$/);
  receiver.writeConfig({ hook: relayWebhook('ch'), second: relayWebhook('ch2') });
  assert.equal((await receiver.runtime.reload()).ok, true);
  assert.ok(receiver.relay.service.channel('ch2'));
  assert.equal((await http('GET', `${url}/connect/status/ch`, { headers: auth(newToken) })).status, 200);
  assert.equal((await http('GET', `${url}/connect/status/ch`, { headers: auth(TOKEN) })).status, 401);
  receiver.writeConfig({ hook: relayWebhook('ch'), second: relayWebhook('ch', { ttl_seconds: 5 }) });
  const bad = await receiver.runtime.reload();
  assert.equal(bad.ok, false);
  assert.match(bad.issues[0]!.message, /already defined/);
  assert.ok(receiver.relay.service.channel('ch2'), 'the serving configuration is kept');
});

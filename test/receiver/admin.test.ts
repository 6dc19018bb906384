import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';

let receiver: TestReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

const TOKEN = 'admin-token-value';
const auth = { authorization: `Bearer ${TOKEN}` };

function reload(r: TestReceiver, body: unknown, headers: Record<string, string> = auth) {
  return r.app.inject({
    method: 'POST',
    url: '/admin/reload-config',
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

test('admin endpoints: disabled without a token, 401 without or with a wrong token', async () => {
  receiver = await startTestReceiver({ webhooks: { a: { module: 'log' } } });
  const disabled = await reload(receiver, {});
  assert.equal(disabled.statusCode, 403);
  assert.equal(disabled.json().code, 'WC_ADMIN_DISABLED');
  await receiver.stop();

  receiver = await startTestReceiver({
    webhooks: { a: { module: 'log' } },
    env: { CONFIG_RELOAD_ADMIN_TOKEN: TOKEN },
  });
  assert.equal((await reload(receiver, {}, {})).json().code, 'WC_ADMIN_AUTH_REQUIRED');
  assert.equal(
    (await reload(receiver, {}, { authorization: 'Bearer wrong' })).json().code,
    'WC_ADMIN_AUTH_INVALID',
  );
  const status = await receiver.app.inject({
    method: 'GET',
    url: '/admin/config-status',
    headers: { authorization: TOKEN },
  });
  assert.equal(status.statusCode, 200);
  assert.equal(status.json().webhooks_count, 1);
  assert.equal(status.json().last_reload_error, null);
});

test('validate_only reports problems and changes nothing; a good reload swaps; a bad one keeps the old config', async () => {
  receiver = await startTestReceiver({
    webhooks: { first: { module: 'log' } },
    env: { CONFIG_RELOAD_ADMIN_TOKEN: TOKEN },
  });
  const send = (id: string) =>
    receiver!.app.inject({
      method: 'POST',
      url: `/webhook/${id}`,
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });

  receiver.writeConfig({ second: { module: 'log' }, broken: { module: 'no_such_module' } });
  const check = await reload(receiver, { validate_only: true });
  assert.equal(check.statusCode, 400);
  assert.equal(check.json().code, 'WC_RELOAD_FAILED');
  assert.ok(
    check
      .json()
      .issues.some(
        (line: string) => line.includes('broken') && line.includes("unknown module 'no_such_module'"),
      ),
  );
  assert.equal((await send('first')).statusCode, 200, 'validate_only swapped nothing');

  const failed = await reload(receiver, {});
  assert.equal(failed.statusCode, 400);
  assert.equal((await send('first')).statusCode, 200, 'the previous configuration keeps serving');
  assert.equal((await send('second')).statusCode, 404);
  const status = await receiver.app.inject({ method: 'GET', url: '/admin/config-status', headers: auth });
  assert.ok(status.json().last_reload_error.issues.length > 0);
  const health = await receiver.app.inject({ method: 'GET', url: '/health' });
  assert.equal(health.statusCode, 200);

  receiver.writeConfig({ second: { module: 'log' } });
  const valid = await reload(receiver, { validate_only: true });
  assert.equal(valid.statusCode, 200);
  assert.equal(valid.json().status, 'valid');
  assert.equal((await send('second')).statusCode, 404, 'validate_only swapped nothing');

  const ok = await reload(receiver, {});
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.json().status, 'success');
  assert.equal((await send('second')).statusCode, 200);
  assert.equal((await send('first')).statusCode, 404);

  const nothing = await reload(receiver, { reload_webhooks: false, reload_connections: false });
  assert.equal(nothing.json().error, 'No reload operation specified');
});

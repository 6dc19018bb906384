/**
 * Hostile webhook ids: `../`, `%2e%2e`, NUL (`%00` and raw), unicode and 1,000 characters, sent over a
 * raw socket so that no client normalises the path first. A `default` catch-all entry is configured, so
 * an id that slipped past validation would be accepted (200) rather than refused: the defined outcome is
 * 400 `WC_WEBHOOK_ID_INVALID` / `WC_NAMESPACE_INVALID` before any lookup, and nothing escapes the
 * `/webhook/` prefix (no admin or stats route is reached).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';
import { assertStillServing, portOf, PROBE_WEBHOOK, rawRequest, sink } from './helpers.js';

let receiver: TestReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

const ADMIN_TOKEN = 'admin-token-for-ids-suite';

async function start(): Promise<{ base: string; port: number }> {
  receiver = await startTestReceiver({
    webhooks: { ...PROBE_WEBHOOK, default: sink() },
    env: { CONFIG_RELOAD_ADMIN_TOKEN: ADMIN_TOKEN, STATS_AUTH_TOKEN: 'stats-token-for-ids-suite' },
  });
  const base = await receiver.listen();
  return { base, port: portOf(base) };
}

function post(target: string): string {
  return `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
}

const INVALID_ID = 'WC_WEBHOOK_ID_INVALID';
const INVALID_NAMESPACE = 'WC_NAMESPACE_INVALID';

test('path traversal ids are refused before lookup (the default entry never sees them)', async () => {
  const { base, port } = await start();
  const cases: [target: string, status: number, code: string][] = [
    ['/webhook/..', 400, INVALID_ID],
    ['/webhook/.', 400, INVALID_ID],
    ['/webhook/../admin', 400, INVALID_NAMESPACE],
    ['/webhook/../stats', 400, INVALID_NAMESPACE],
    ['/webhook/probe/..', 400, INVALID_ID],
    ['/webhook/..%2fadmin', 400, INVALID_ID],
    ['/webhook/..%2Fstats', 400, INVALID_ID],
    ['/webhook/%2e%2e', 400, INVALID_ID],
    ['/webhook/%2E%2E', 400, INVALID_ID],
    ['/webhook/%2e%2e%2fadmin', 400, INVALID_ID],
    ['/webhook/%2e%2e/%2e%2e', 400, INVALID_NAMESPACE],
    ['/webhook/..%5c..%5cadmin', 400, INVALID_ID],
    ['/webhook/%252e%252e', 400, INVALID_ID],
    // Three segments match no webhook route: 404, and certainly not the admin endpoint.
    ['/webhook/../admin/reload-config', 404, 'WC_ROUTE_NOT_FOUND'],
    ['/webhook/%2e%2e/admin/reload-config', 404, 'WC_ROUTE_NOT_FOUND'],
  ];
  for (const [target, status, code] of cases) {
    const result = await rawRequest(port, post(target));
    assert.equal(
      result.status,
      status,
      `${target} answered ${result.status}: ${result.response.slice(-200)}`,
    );
    assert.equal(result.json?.code, code, target);
  }
  // Nothing was reloaded and nothing was counted.
  const configStatus = await receiver!.app.inject({
    method: 'GET',
    url: '/admin/config-status',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(configStatus.json().last_reload, null);
  const stats = await receiver!.app.inject({
    method: 'GET',
    url: '/stats',
    headers: { authorization: 'Bearer stats-token-for-ids-suite' },
  });
  assert.deepEqual(Object.keys(stats.json()), []);
  await assertStillServing(receiver!, base);
});

test('NUL in an id: %00 is 400 WC_WEBHOOK_ID_INVALID; a raw NUL is a parse error (400, connection closed)', async () => {
  const { base, port } = await start();
  for (const target of ['/webhook/%00', '/webhook/a%00b', '/webhook/probe%00', '/webhook/%00/probe']) {
    const result = await rawRequest(port, post(target));
    assert.equal(result.status, 400, target);
    assert.equal(result.json?.code, target.startsWith('/webhook/%00/') ? INVALID_NAMESPACE : INVALID_ID);
  }
  const raw = await rawRequest(port, post('/webhook/a\0b'));
  assert.equal(raw.status, 400);
  assert.equal(raw.json?.code, 'WC_BAD_REQUEST');
  assert.ok(raw.closedByServer);
  await assertStillServing(receiver!, base);
});

test('unicode ids (encoded and raw) are refused', async () => {
  const { base, port } = await start();
  const encoded = [
    'café',
    '日本語',
    '😀',
    'ｐｒｏｂｅ', // fullwidth
    'prob\u0435', // Cyrillic e
    'probe\u200b', // zero-width space
    'ſtats', // long s
    'a\u2028b',
    '\u2028',
    'İd',
  ].map((id) => `/webhook/${encodeURIComponent(id)}`);
  for (const target of [...encoded, '/webhook/%ff', '/webhook/%c3']) {
    const result = await rawRequest(port, post(target));
    assert.equal(result.status, 400, `${target} answered ${result.status}`);
    assert.equal(result.json?.code, INVALID_ID, target);
  }
  // Raw (unencoded) UTF-8 bytes in the request line are a parse error.
  const raw = await rawRequest(port, Buffer.from(post('/webhook/café'), 'utf8'));
  assert.equal(raw.status, 400);
  assert.equal(raw.json?.code, 'WC_BAD_REQUEST');
  assert.ok(raw.closedByServer);
  await assertStillServing(receiver!, base);
});

test('long ids: 65, 100, 1,000 and 2,000 characters are 400 WC_WEBHOOK_ID_INVALID (namespace too)', async () => {
  const { base, port } = await start();
  for (const length of [65, 100, 1000, 2000]) {
    const result = await rawRequest(port, post(`/webhook/${'a'.repeat(length)}`));
    assert.equal(result.status, 400, `${length} characters answered ${result.status}`);
    assert.deepEqual(result.json, {
      detail: `Webhook ID too long: ${length} characters (max: 64)`,
      code: INVALID_ID,
    });
  }
  assert.equal((await rawRequest(port, post(`/webhook/${'a'.repeat(64)}`))).status, 200); // via default
  const namespaced = await rawRequest(port, post(`/webhook/${'b'.repeat(1000)}/probe`));
  assert.equal(namespaced.status, 400);
  assert.equal(namespaced.json?.code, INVALID_NAMESPACE);
  // Beyond the router's parameter limit (2,048) the router refuses it, with the same code.
  const huge = await rawRequest(port, post(`/webhook/${'c'.repeat(5000)}`));
  assert.equal(huge.status, 400);
  assert.equal(huge.json?.code, INVALID_ID);
  await assertStillServing(receiver!, base);
});

test('reserved names in any case are refused even with a default entry', async () => {
  const { base, port } = await start();
  for (const id of [
    'stats',
    'STATS',
    'Admin',
    'health',
    'internal_x',
    'x_admin',
    '__x',
    '_x',
    '--',
    'a--b',
  ]) {
    const result = await rawRequest(port, post(`/webhook/${id}`));
    assert.equal(result.status, 400, id);
    assert.equal(result.json?.code, INVALID_ID, id);
  }
  await assertStillServing(receiver!, base);
});

test('a 1,000-character or undecodable id answers 400 WC_WEBHOOK_ID_INVALID', {}, async () => {
  const { port } = await start();
  for (const target of [`/webhook/${'a'.repeat(1000)}`, '/webhook/%ff']) {
    const result = await rawRequest(port, post(target));
    assert.equal(result.status, 400);
    assert.equal(result.json?.code, INVALID_ID);
  }
});

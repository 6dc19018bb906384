/**
 * Hostile callers of the operational and admin endpoints: no token, wrong tokens in every shape, and
 * brute-force guessing. The defined outcomes: `403 WC_ADMIN_DISABLED` when the admin API has no token;
 * `401 WC_ADMIN_AUTH_REQUIRED` without an `Authorization` header; `401 WC_ADMIN_AUTH_INVALID` with one
 * constant body for every wrong token (nothing tells a guesser how close it was); `/stats` and `/metrics`
 * guessing is limited by `STATS_RATE_LIMIT` per client address (429 + Retry-After).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';
import { assertStillServing, PROBE_WEBHOOK } from './helpers.js';

let receiver: TestReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

const ADMIN = 'a-long-admin-token-0123456789abcdef';
const STATS = 'a-long-stats-token-0123456789abcdef';

const REQUIRED = { detail: 'Authentication required', code: 'WC_ADMIN_AUTH_REQUIRED' };
const INVALID = { detail: 'Invalid authentication token', code: 'WC_ADMIN_AUTH_INVALID' };

/** Wrong credentials in every shape a guesser (or a confused client) might send. */
function wrongAuthorizations(token: string): string[] {
  return [
    'Bearer wrong',
    'Bearer ',
    'Bearer',
    `bearer ${token}`, // the scheme is case-sensitive here; the whole value is then taken as a bare token
    `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
    `Bearer ${token.slice(0, -1)}`, // one character short
    `Bearer ${token}x`, // one character long
    `Bearer ${token.slice(0, -1)}${token.endsWith('f') ? 'e' : 'f'}`, // last character wrong
    `Bearer ${token.toUpperCase()}`,
    `Bearer ${token} ${token}`,
    `Bearer ${'x'.repeat(60_000)}`,
    'Bearer \u00e9\u00e8',
    `Token ${token}`,
  ];
}

const routes = [
  { method: 'POST' as const, url: '/admin/reload-config' },
  { method: 'GET' as const, url: '/admin/config-status' },
];

test('admin endpoints: 403 WC_ADMIN_DISABLED without CONFIG_RELOAD_ADMIN_TOKEN, whatever is sent', async () => {
  const r = (receiver = await startTestReceiver({ webhooks: PROBE_WEBHOOK }));
  for (const route of routes) {
    for (const authorization of [undefined, 'Bearer anything', 'Bearer ', '']) {
      const response = await r.app.inject({
        ...route,
        ...(authorization === undefined ? {} : { headers: { authorization } }),
      });
      assert.equal(response.statusCode, 403);
      assert.equal(response.json().code, 'WC_ADMIN_DISABLED');
    }
  }
  await assertStillServing(r);
});

test('admin endpoints: no token is 401 WC_ADMIN_AUTH_REQUIRED; every wrong token the same 401 body', async () => {
  const r = (receiver = await startTestReceiver({
    webhooks: PROBE_WEBHOOK,
    env: { CONFIG_RELOAD_ADMIN_TOKEN: ADMIN },
  }));
  for (const route of routes) {
    const missing = await r.app.inject(route);
    assert.equal(missing.statusCode, 401);
    assert.deepEqual(missing.json(), REQUIRED);
    for (const authorization of wrongAuthorizations(ADMIN)) {
      const response = await r.app.inject({ ...route, headers: { authorization } });
      assert.equal(response.statusCode, 401, `${route.url} with ${authorization.slice(0, 40)}`);
      assert.deepEqual(response.json(), INVALID, `${route.url} with ${authorization.slice(0, 40)}`);
      assert.equal(response.headers['retry-after'], undefined);
    }
  }
  // A refused reload did nothing.
  const status = await r.app.inject({
    method: 'GET',
    url: '/admin/config-status',
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(status.statusCode, 200);
  assert.equal(status.json().last_reload, null);
  await assertStillServing(r);
});

test('stats endpoints: no token is 401 WC_ADMIN_AUTH_REQUIRED; every wrong token the same 401 body', async () => {
  const r = (receiver = await startTestReceiver({
    webhooks: PROBE_WEBHOOK,
    env: { STATS_AUTH_TOKEN: STATS, STATS_RATE_LIMIT: '1000' },
  }));
  for (const url of ['/stats', '/metrics']) {
    const missing = await r.app.inject({ method: 'GET', url });
    assert.equal(missing.statusCode, 401);
    assert.deepEqual(missing.json(), REQUIRED);
    for (const authorization of wrongAuthorizations(STATS)) {
      const response = await r.app.inject({ method: 'GET', url, headers: { authorization } });
      assert.equal(response.statusCode, 401, `${url} with ${authorization.slice(0, 40)}`);
      assert.deepEqual(response.json(), INVALID);
    }
  }
  // The admin token is not a stats token and vice versa.
  const crossed = await r.app.inject({
    method: 'GET',
    url: '/stats',
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.deepEqual(crossed.json(), INVALID);
  await assertStillServing(r);
});

test('brute-force guessing on /stats and /metrics is limited per address by STATS_RATE_LIMIT', async () => {
  const r = (receiver = await startTestReceiver({
    webhooks: PROBE_WEBHOOK,
    env: { STATS_AUTH_TOKEN: STATS, STATS_RATE_LIMIT: '5' },
  }));
  const guesser = '192.0.2.10';
  const outcomes: number[] = [];
  for (let i = 0; i < 50; i++) {
    const response = await r.app.inject({
      method: 'GET',
      url: i % 2 === 0 ? '/stats' : '/metrics',
      remoteAddress: guesser,
      headers: { authorization: `Bearer guess-${i}` },
    });
    outcomes.push(response.statusCode);
    if (response.statusCode === 429) {
      assert.equal(response.json().code, 'WC_RATE_LIMITED');
      assert.ok(Number(response.headers['retry-after']) >= 1);
    } else {
      assert.deepEqual(response.json(), INVALID);
    }
  }
  assert.deepEqual(outcomes.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.ok(
    outcomes.slice(5).every((status) => status === 429),
    `guesses after the limit: ${outcomes.slice(5).join(',')}`,
  );
  // The limited address does not get to try the right token either, until the window passes ...
  const late = await r.app.inject({
    method: 'GET',
    url: '/stats',
    remoteAddress: guesser,
    headers: { authorization: `Bearer ${STATS}` },
  });
  assert.equal(late.statusCode, 429);
  // ... while another address is unaffected.
  const scraper = await r.app.inject({
    method: 'GET',
    url: '/metrics',
    remoteAddress: '192.0.2.20',
    headers: { authorization: `Bearer ${STATS}` },
  });
  assert.equal(scraper.statusCode, 200);
  await assertStillServing(r);
});

test('admin endpoints answer every one of 500 wrong guesses with the same 401 and keep serving', async () => {
  // The per-address limit is raised here so every guess reaches the token check (the next test limits it).
  const r = (receiver = await startTestReceiver({
    webhooks: PROBE_WEBHOOK,
    env: { CONFIG_RELOAD_ADMIN_TOKEN: ADMIN, ADMIN_RATE_LIMIT: '10000' },
  }));
  for (let i = 0; i < 500; i++) {
    const response = await r.app.inject({
      ...routes[i % 2]!,
      remoteAddress: '192.0.2.10',
      headers: { authorization: `Bearer guess-${i}` },
    });
    assert.equal(response.statusCode, 401);
    assert.deepEqual(response.json(), INVALID);
  }
  const genuine = await r.app.inject({
    method: 'GET',
    url: '/admin/config-status',
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(genuine.statusCode, 200);
  await assertStillServing(r);
});

test('brute-force guessing on /admin/* is limited per address by ADMIN_RATE_LIMIT', async () => {
  const r = (receiver = await startTestReceiver({
    webhooks: PROBE_WEBHOOK,
    env: { CONFIG_RELOAD_ADMIN_TOKEN: ADMIN, ADMIN_RATE_LIMIT: '10' },
  }));
  const outcomes: number[] = [];
  for (let i = 0; i < 60; i++) {
    const response = await r.app.inject({
      ...routes[i % 2]!,
      remoteAddress: '192.0.2.10',
      headers: { authorization: `Bearer guess-${i}` },
    });
    outcomes.push(response.statusCode);
    if (response.statusCode === 429) {
      assert.equal(response.json().code, 'WC_RATE_LIMITED');
      assert.ok(Number(response.headers['retry-after']) >= 1);
    } else {
      assert.deepEqual(response.json(), INVALID);
    }
  }
  assert.deepEqual(outcomes.slice(0, 10), Array(10).fill(401));
  assert.ok(
    outcomes.slice(10).every((status) => status === 429),
    `guesses after the limit: ${outcomes.slice(10).join(',')}`,
  );
  // No reload ran, and another address still gets in with the right token.
  const genuine = await r.app.inject({
    method: 'GET',
    url: '/admin/config-status',
    remoteAddress: '192.0.2.20',
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(genuine.statusCode, 200);
  assert.equal(genuine.json().last_reload, null);
  await assertStillServing(r);
});

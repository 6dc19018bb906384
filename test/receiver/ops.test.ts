import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';

let receiver: TestReceiver | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Prometheus text exposition: every line is a comment, blank, or `name{labels} value`. */
function assertPrometheusText(text: string): void {
  const sample =
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?([0-9.e+-]+|NaN|\+Inf|-Inf)( -?\d+)?$/;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    assert.match(line, sample, `not a Prometheus sample line: ${line}`);
  }
}

test('/metrics is Prometheus text with requests by webhook and status, latency and deliveries', async () => {
  receiver = await startTestReceiver({ webhooks: { counted: { module: 'log' } } });
  for (let i = 0; i < 3; i++) {
    await receiver.app.inject({
      method: 'POST',
      url: '/webhook/counted',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
  }
  await receiver.app.inject({ method: 'POST', url: '/webhook/missing', payload: '{}' });
  await receiver.idle();
  const response = await receiver.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /text\/plain/);
  const text = response.body;
  assertPrometheusText(text);
  assert.match(text, /webhook_requests_total\{webhook="counted",status="200"\} 3/);
  assert.match(text, /webhook_requests_total\{webhook="_unknown",status="404"\} 1/);
  assert.match(text, /webhook_request_duration_seconds_bucket\{[^}]*webhook="counted"/);
  assert.match(text, /module_deliveries_total\{module="log",result="success"\} 3/);
  assert.match(text, /background_tasks_in_flight/);
});

test('/health reports a broken component as unhealthy with 503', async () => {
  const base = mkdtempSync(join(tmpdir(), 'wc-health-'));
  dirs.push(base);
  receiver = await startTestReceiver({
    webhooks: { archive: { module: 'save_to_disk', 'module-config': { base_dir: base, path: 'inbox' } } },
  });
  const healthy = await receiver.app.inject({ method: 'GET', url: '/health' });
  assert.equal(healthy.statusCode, 200);
  assert.equal(healthy.json().status, 'healthy');

  // The destination directory is replaced by a file: the module can no longer deliver.
  rmSync(join(base, 'inbox'), { recursive: true, force: true });
  writeFileSync(join(base, 'inbox'), 'not a directory');
  const broken = await receiver.app.inject({ method: 'GET', url: '/health' });
  assert.equal(broken.statusCode, 503);
  assert.equal(broken.json().status, 'unhealthy');
  assert.ok(Object.values(broken.json().components).includes('unhealthy'));
});

test('/stats requires STATS_AUTH_TOKEN when set, compared exactly', async () => {
  receiver = await startTestReceiver({
    webhooks: { a: { module: 'log' } },
    env: { STATS_AUTH_TOKEN: 's3cret' },
  });
  assert.equal((await receiver.app.inject({ method: 'GET', url: '/stats' })).statusCode, 401);
  const wrong = await receiver.app.inject({
    method: 'GET',
    url: '/stats',
    headers: { authorization: 'Bearer nope' },
  });
  assert.equal(wrong.json().code, 'WC_ADMIN_AUTH_INVALID');
  const ok = await receiver.app.inject({
    method: 'GET',
    url: '/stats',
    headers: { authorization: 'Bearer s3cret' },
  });
  assert.equal(ok.statusCode, 200);
  assert.equal((await receiver.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
});

test('/stats honours STATS_ALLOWED_IPS and its rate limit', async () => {
  receiver = await startTestReceiver({
    webhooks: { a: { module: 'log' } },
    env: { STATS_ALLOWED_IPS: '10.0.0.0/8', STATS_RATE_LIMIT: '1' },
  });
  const denied = await receiver.app.inject({ method: 'GET', url: '/stats', remoteAddress: '192.0.2.1' });
  assert.equal(denied.statusCode, 403);
  assert.equal(denied.json().code, 'WC_IP_DENIED');
  assert.equal(
    (await receiver.app.inject({ method: 'GET', url: '/stats', remoteAddress: '10.1.2.3' })).statusCode,
    200,
  );
  const limited = await receiver.app.inject({ method: 'GET', url: '/stats', remoteAddress: '10.1.2.3' });
  assert.equal(limited.statusCode, 429);
  assert.ok(limited.headers['retry-after']);
});

test('security headers on every response; CORS only for accepted origins', async () => {
  receiver = await startTestReceiver({
    webhooks: { a: { module: 'log' } },
    env: { CORS_ALLOWED_ORIGINS: 'https://app.example.com,*' },
  });
  const root = await receiver.app.inject({
    method: 'GET',
    url: '/',
    headers: { origin: 'https://app.example.com' },
  });
  assert.equal(root.statusCode, 200);
  assert.deepEqual(root.json(), { message: '200 OK' });
  assert.equal(root.headers['x-content-type-options'], 'nosniff');
  assert.equal(root.headers['x-frame-options'], 'DENY');
  assert.equal(root.headers['referrer-policy'], 'strict-origin-when-cross-origin');
  assert.equal(root.headers['strict-transport-security'], undefined);
  assert.equal(root.headers['access-control-allow-origin'], 'https://app.example.com');
  const other = await receiver.app.inject({
    method: 'GET',
    url: '/',
    headers: { origin: 'https://evil.example' },
  });
  assert.equal(other.headers['access-control-allow-origin'], undefined);
  const https = await receiver.app.inject({
    method: 'GET',
    url: '/',
    headers: { 'x-forwarded-proto': 'https' },
  });
  assert.match(String(https.headers['strict-transport-security']), /^max-age=31536000; includeSubDomains$/);
  const notFound = await receiver.app.inject({ method: 'GET', url: '/nowhere' });
  assert.equal(notFound.headers['x-content-type-options'], 'nosniff');
});

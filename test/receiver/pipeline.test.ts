import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wc-out-'));
  dirs.push(dir);
  return dir;
}

function post(r: TestReceiver, url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  return r.app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function savedFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith('.'));
  } catch {
    return [];
  }
}

describe('routing and input errors', () => {
  test('unknown id → 404, invalid id → 400, wrong method → 405, each with a stable code', async () => {
    receiver = await startTestReceiver({ webhooks: { known: { module: 'log', 'module-config': {} } } });
    const unknown = await post(receiver, '/webhook/nope', '{}');
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), { detail: 'Webhook ID not found', code: 'WC_WEBHOOK_NOT_FOUND' });

    for (const id of ['admin', 'a--b', '_private', 'x'.repeat(65)]) {
      const invalid = await post(receiver, `/webhook/${id}`, '{}');
      assert.equal(invalid.statusCode, 400, id);
      assert.equal(invalid.json().code, 'WC_WEBHOOK_ID_INVALID', id);
    }
    const namespaced = await post(receiver, '/webhook/bad%20ns/known', '{}');
    assert.equal(namespaced.json().code, 'WC_NAMESPACE_INVALID');

    const get = await receiver.app.inject({ method: 'GET', url: '/webhook/known' });
    assert.equal(get.statusCode, 405);
    assert.equal(get.headers.allow, 'POST');
    assert.equal(
      (await receiver.app.inject({ method: 'GET', url: '/nowhere' })).json().code,
      'WC_ROUTE_NOT_FOUND',
    );
  });

  test('malformed JSON → 400 WC_JSON_MALFORMED; invalid UTF-8 → 400; too deep → 400', async () => {
    receiver = await startTestReceiver({ webhooks: { known: { module: 'log' } } });
    const malformed = await post(receiver, '/webhook/known', '{"a": ');
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().code, 'WC_JSON_MALFORMED');
    const invalidUtf8 = await post(receiver, '/webhook/known', Buffer.from([0x22, 0xff, 0xfe, 0x22]));
    assert.equal(invalidUtf8.statusCode, 400);
    assert.equal(invalidUtf8.json().code, 'WC_BODY_UNDECODABLE');
    const deep = await post(receiver, '/webhook/known', '['.repeat(10_000) + ']'.repeat(10_000));
    assert.equal(deep.statusCode, 400);
    assert.equal(deep.json().code, 'WC_JSON_TOO_DEEP');
  });

  test('the default entry serves unknown ids and counts them under their own id', async () => {
    receiver = await startTestReceiver({ webhooks: { default: { module: 'log' } } });
    const response = await post(receiver, '/webhook/anything_else', '{"x":1}');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { message: '200 OK' });
    const stats = await receiver.app.inject({ method: 'GET', url: '/stats' });
    assert.equal(stats.json().anything_else.total, 1);
  });
});

describe('rate limit and schema', () => {
  test('rate limit → 429 with Retry-After and WC_RATE_LIMITED', async () => {
    receiver = await startTestReceiver({
      webhooks: { limited: { module: 'log', rate_limit: { max_requests: 2, window_seconds: 60 } } },
    });
    assert.equal((await post(receiver, '/webhook/limited', '{}')).statusCode, 200);
    assert.equal((await post(receiver, '/webhook/limited', '{}')).statusCode, 200);
    const limited = await post(receiver, '/webhook/limited', '{}');
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().code, 'WC_RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });

  test('JSON schema failure → 400 naming the failing path', async () => {
    receiver = await startTestReceiver({
      webhooks: {
        typed: {
          module: 'log',
          json_schema: {
            type: 'object',
            required: ['order'],
            properties: { order: { type: 'object', properties: { amount: { type: 'number' } } } },
          },
        },
      },
    });
    const bad = await post(receiver, '/webhook/typed', '{"order":{"amount":"ten"}}');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'WC_SCHEMA_VALIDATION_FAILED');
    assert.match(bad.json().detail, /\/order\/amount/);
    assert.equal((await post(receiver, '/webhook/typed', '{"order":{"amount":10}}')).statusCode, 200);
  });
});

describe('authentication in the pipeline', () => {
  test('hmac runs over the raw bytes; a failure is 401 with its code and the module never runs', async () => {
    const secret = 'pipeline-secret';
    const out = tempDir();
    receiver = await startTestReceiver({
      webhooks: {
        signed: {
          module: 'save_to_disk',
          'module-config': { base_dir: '{$OUT_DIR}', path: '.' },
          hmac: { secret: '{$SIGNING_SECRET}', header: 'X-Hub-Signature-256' },
        },
      },
      env: { SIGNING_SECRET: secret, OUT_DIR: out },
    });
    const body = '{ "odd" :  "whitespace" }';
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const ok = await post(receiver, '/webhook/signed', body, { 'x-hub-signature-256': signature });
    assert.equal(ok.statusCode, 200);
    const bad = await post(receiver, '/webhook/signed', body + ' ', { 'x-hub-signature-256': signature });
    assert.equal(bad.statusCode, 401);
    assert.match(bad.json().code, /^WC_AUTH_/);
    const missing = await post(receiver, '/webhook/signed', body);
    assert.equal(missing.statusCode, 401);
    await receiver.idle();
    const files = savedFiles(out);
    assert.equal(files.length, 1, 'only the authenticated webhook reached the module');
    assert.deepEqual(JSON.parse(readFileSync(join(out, files[0] as string), 'utf8')), { odd: 'whitespace' });
  });
});

describe('delivery and responses', () => {
  test('data_type blob hands the exact bytes to the module', async () => {
    const out = tempDir();
    receiver = await startTestReceiver({
      webhooks: {
        raw: { data_type: 'blob', module: 'save_to_disk', 'module-config': { base_dir: out, path: '.' } },
      },
    });
    const bytes = Buffer.from([0x00, 0xff, 0x80, 0x7b, 0x0a, 0xc3, 0x28]);
    const response = await post(receiver, '/webhook/raw', bytes, {
      'content-type': 'application/octet-stream',
    });
    assert.equal(response.statusCode, 200);
    await receiver.idle();
    const files = savedFiles(out);
    assert.equal(files.length, 1);
    assert.deepEqual(readFileSync(join(out, files[0] as string)), bytes);
  });

  test('background delivery does not hold the response; retry answers 200 processed or 202', async () => {
    let calls = 0;
    let stall = true;
    const target = createServer((request, response) => {
      calls++;
      request.resume();
      if (stall) return setTimeout(() => response.writeHead(503).end(), 400);
      response.writeHead(200).end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const { port } = target.address() as AddressInfo;
    try {
      receiver = await startTestReceiver({
        webhooks: {
          forward: {
            module: 'http_webhook',
            'module-config': { url: `http://127.0.0.1:${port}/hook`, allowed_hosts: ['127.0.0.1'] },
            retry: { enabled: true, max_attempts: 3, initial_delay: 0.05, max_delay: 0.05 },
          },
        },
      });
      const started = Date.now();
      const slow = await post(receiver, '/webhook/forward', '{"n":1}');
      assert.equal(slow.statusCode, 202, 'the target is still failing after the 100 ms peek');
      assert.equal(slow.json().status, 'accepted');
      assert.ok(Date.now() - started < 400, 'the response did not wait for the delivery');
      await receiver.idle();
      assert.equal(calls, 3, 'transient failures were retried up to max_attempts');

      stall = false;
      const fast = await post(receiver, '/webhook/forward', '{"n":2}');
      assert.equal(fast.statusCode, 200);
      assert.deepEqual(fast.json(), { message: '200 OK', status: 'processed' });
    } finally {
      await new Promise((resolve) => target.close(resolve));
    }
  });

  test('header limits: too many headers → 400 with a stable code', async () => {
    receiver = await startTestReceiver({
      webhooks: { known: { module: 'log' } },
      env: { MAX_HEADER_COUNT: '5' },
    });
    const headers: Record<string, string> = {};
    for (let i = 0; i < 10; i++) headers[`x-extra-${i}`] = 'v';
    const response = await post(receiver, '/webhook/known', '{}', headers);
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().code, 'WC_HEADERS_INVALID');
  });
});

describe('authentication challenges', () => {
  test('a scheme with a challenge answers 401 with WWW-Authenticate; the detail never shows the secret', async () => {
    receiver = await startTestReceiver({
      webhooks: {
        digest: { module: 'log', digest_auth: { username: 'relay', password: 'digest-secret-value' } },
        basic: { module: 'log', basic_auth: { username: 'relay', password: 'basic-secret-value' } },
      },
    });
    const digest = await post(receiver, '/webhook/digest', '{}');
    assert.equal(digest.statusCode, 401);
    assert.match(String(digest.headers['www-authenticate']), /^Digest .*nonce="/);
    assert.equal(digest.json().code, 'WC_AUTH_MISSING');

    const wrong = Buffer.from('relay:wrong').toString('base64');
    const basic = await post(receiver, '/webhook/basic', '{}', { authorization: `Basic ${wrong}` });
    assert.equal(basic.statusCode, 401);
    assert.match(String(basic.headers['www-authenticate']), /^Basic /);
    assert.doesNotMatch(basic.body, /secret-value/);
    const right = Buffer.from('relay:basic-secret-value').toString('base64');
    assert.equal(
      (await post(receiver, '/webhook/basic', '{}', { authorization: `Basic ${right}` })).statusCode,
      200,
    );
  });
});

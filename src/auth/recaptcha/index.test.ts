import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeRequest, rejects, verifierFor } from '../testing.js';
import { recaptchaMethod } from './index.js';

const codeOf = (result: { ok: boolean; code?: string }) => (result.ok ? 'ok' : result.code);

/**
 * A siteverify-compatible server on loopback: knows one secret and a few tokens, marks tokens used
 * (reCAPTCHA tokens are single-use) and records the form it received.
 */
describe('recaptcha (verify server on loopback)', () => {
  let server: Server;
  let verifyUrl: string;
  const received: URLSearchParams[] = [];
  const used = new Set<string>();
  const tokens: Record<string, Record<string, unknown>> = {
    'v3-human': { score: 0.9, action: 'submit', hostname: 'shop.example' },
    'v3-human-2': { score: 0.9, action: 'submit', hostname: 'shop.example' },
    'v3-bot': { score: 0.1, action: 'submit', hostname: 'shop.example' },
    'v3-other-action': { score: 0.9, action: 'login', hostname: 'shop.example' },
    'v2-solved': { hostname: 'shop.example' },
    'v2-solved-2': { hostname: 'evil.example' },
  };

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const form = new URLSearchParams(body);
        received.push(form);
        response.setHeader('content-type', 'application/json');
        const token = form.get('response') ?? '';
        if (form.get('secret') !== 'site-secret') {
          return response.end(JSON.stringify({ success: false, 'error-codes': ['invalid-input-secret'] }));
        }
        if (token === 'server-error') {
          response.statusCode = 500;
          return response.end('{}');
        }
        if (used.has(token)) {
          return response.end(JSON.stringify({ success: false, 'error-codes': ['timeout-or-duplicate'] }));
        }
        const known = tokens[token];
        if (known === undefined) {
          return response.end(JSON.stringify({ success: false, 'error-codes': ['invalid-input-response'] }));
        }
        used.add(token);
        response.end(JSON.stringify({ success: true, challenge_ts: new Date().toISOString(), ...known }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    verifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/recaptcha/api/siteverify`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('v3 token in the default header; score threshold; replayed token; wrong secret', async () => {
    const verify = await verifierFor(recaptchaMethod, {
      secret_key: 'site-secret',
      verify_url: verifyUrl,
      expected_action: 'submit',
    });
    const req = (token?: string) =>
      makeRequest({
        clientIp: '203.0.113.9',
        headers:
          token === undefined
            ? { 'x-forwarded-for': '1.2.3.4' }
            : { 'x-recaptcha-token': token, 'x-forwarded-for': '1.2.3.4' },
      });
    received.length = 0;
    assert.equal(codeOf(await verify(req('v3-human'))), 'ok');
    assert.equal(
      received[0]?.get('remoteip'),
      '203.0.113.9',
      'remoteip is the resolved client, not X-Forwarded-For',
    );
    assert.equal(received[0]?.get('response'), 'v3-human');
    assert.equal(codeOf(await verify(req('v3-human'))), 'WC_AUTH_EXPIRED');
    const bot = await verify(req('v3-bot'));
    assert.equal(codeOf(bot), 'WC_AUTH_MISMATCH');
    assert.ok(!bot.ok && bot.detail === 'reCAPTCHA score 0.1 below threshold 0.5');
    assert.equal(codeOf(await verify(req('v3-other-action'))), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(req('forged'))), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(req())), 'WC_AUTH_MISSING');
    const wrongSecret = await verifierFor(recaptchaMethod, { secret_key: 'nope', verify_url: verifyUrl });
    const result = await wrongSecret(req('v3-human-2'));
    assert.equal(codeOf(result), 'WC_AUTH_MISMATCH');
    assert.ok(!result.ok && !result.detail.includes('nope'));
  });

  test('v2 token in a JSON body or form body, hostname check', async () => {
    const verify = await verifierFor(recaptchaMethod, {
      secret_key: 'site-secret',
      version: 'v2',
      token_source: 'body',
      verify_url: verifyUrl,
      expected_hostname: ['shop.example'],
    });
    const json = makeRequest({
      body: JSON.stringify({ order: 1, 'g-recaptcha-response': 'v2-solved' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(codeOf(await verify(json)), 'ok');
    const form = makeRequest({
      body: 'order=1&g-recaptcha-response=v2-solved-2',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(codeOf(await verify(form)), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(makeRequest({ body: '{"order":1}' }))), 'WC_AUTH_MISSING');
    assert.equal(codeOf(await verify(makeRequest({ body: 'not json' }))), 'WC_AUTH_MISSING');
  });

  test('an unreachable or failing verify server answers WC_AUTH_UNAVAILABLE', async () => {
    const failing = await verifierFor(recaptchaMethod, { secret_key: 'site-secret', verify_url: verifyUrl });
    assert.equal(
      codeOf(await failing(makeRequest({ headers: { 'x-recaptcha-token': 'server-error' } }))),
      'WC_AUTH_UNAVAILABLE',
    );
    const down = await verifierFor(recaptchaMethod, {
      secret_key: 'site-secret',
      verify_url: 'http://127.0.0.1:1/siteverify',
      timeout_seconds: 1,
    });
    assert.equal(
      codeOf(await down(makeRequest({ headers: { 'x-recaptcha-token': 't' } }))),
      'WC_AUTH_UNAVAILABLE',
    );
  });

  test('fail-open and invalid configs are refused', () => {
    for (const raw of [
      {},
      { secret_key: '' },
      { secret_key: 'x', version: 'v1' },
      { secret_key: 'x', min_score: 2 },
      { secret_key: 'x', verify_url: 'javascript:alert(1)' },
      { secret_key: 'x', token_source: 'cookie' },
    ]) {
      assert.ok(rejects(recaptchaMethod, raw), JSON.stringify(raw));
    }
  });
});

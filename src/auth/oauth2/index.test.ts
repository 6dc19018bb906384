import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { makeContext, makeRequest, rejects, verifierFor } from '../testing.js';
import { oauth2Method } from './index.js';

const req = (token?: string, scheme = 'Bearer') =>
  makeRequest(token === undefined ? {} : { headers: { authorization: `${scheme} ${token}` } });
const codeOf = (result: { ok: boolean; code?: string }) => (result.ok ? 'ok' : result.code);
const nowSeconds = Math.floor(Date.now() / 1000);

/** A real RFC 7662 introspection endpoint: form POST, client authentication by HTTP Basic. */
describe('oauth2 with token introspection (RFC 7662 server on loopback)', () => {
  let server: Server;
  let endpoint: string;
  const calls: string[] = [];
  let failNext = false;
  const tokens: Record<string, Record<string, unknown>> = {
    'tok-good': {
      active: true,
      scope: 'webhooks:write read',
      exp: nowSeconds + 3600,
      iss: 'https://as.example',
    },
    'tok-array-scope': { active: true, scope: ['webhooks:write'] },
    'tok-narrow': { active: true, scope: 'read' },
    'tok-expired': { active: true, scope: 'webhooks:write', exp: nowSeconds - 60 },
    'tok-other-issuer': { active: true, scope: 'webhooks:write', iss: 'https://evil.example' },
  };

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const form = new URLSearchParams(body);
        const token = form.get('token') ?? '';
        calls.push(token);
        response.setHeader('content-type', 'application/json');
        if (failNext) {
          failNext = false;
          response.statusCode = 503;
          return response.end('{}');
        }
        // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
        const expected = `Basic ${Buffer.from('relay:client+secret').toString('base64')}`;
        if (request.headers.authorization !== expected) {
          response.statusCode = 401;
          return response.end('{"error":"invalid_client"}');
        }
        if (form.get('token_type_hint') !== 'access_token' || request.method !== 'POST') {
          response.statusCode = 400;
          return response.end('{}');
        }
        response.end(JSON.stringify(tokens[token] ?? { active: false }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/introspect`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const config = () => ({
    introspection_endpoint: endpoint,
    client_id: 'relay',
    client_secret: 'client secret',
    required_scope: ['webhooks:write'],
    issuer: 'https://as.example',
  });

  test('active token with the scope accepted; inactive, narrow-scoped, expired, other issuer rejected', async () => {
    const verify = await verifierFor(oauth2Method, config());
    assert.equal(codeOf(await verify(req('tok-good'))), 'ok');
    assert.equal(codeOf(await verify(req('tok-array-scope'))), 'ok');
    assert.equal(codeOf(await verify(req('tok-unknown'))), 'WC_AUTH_MISMATCH');
    const narrow = await verify(req('tok-narrow'));
    assert.equal(codeOf(narrow), 'WC_AUTH_MISMATCH');
    assert.ok(!narrow.ok && narrow.challenge?.includes('insufficient_scope'));
    assert.equal(codeOf(await verify(req('tok-expired'))), 'WC_AUTH_EXPIRED');
    assert.equal(codeOf(await verify(req('tok-other-issuer'))), 'WC_AUTH_MISMATCH');
  });

  test('answers are cached per token (also when concurrent); server errors are not cached', async () => {
    const verify = await verifierFor(oauth2Method, config());
    calls.length = 0;
    const results = await Promise.all([
      verify(req('tok-good')),
      verify(req('tok-good')),
      verify(req('tok-good')),
    ]);
    assert.deepEqual(results.map(codeOf), ['ok', 'ok', 'ok']);
    assert.equal(codeOf(await verify(req('tok-good'))), 'ok');
    assert.deepEqual(calls, ['tok-good']);
    failNext = true;
    assert.equal(codeOf(await verify(req('tok-array-scope'))), 'WC_AUTH_UNAVAILABLE');
    assert.equal(codeOf(await verify(req('tok-array-scope'))), 'ok');
  });

  test('cache entries expire after cache_seconds', async () => {
    let now = Date.now();
    const verify = await verifierFor(
      oauth2Method,
      { ...config(), cache_seconds: 10 },
      makeContext({ now: () => now }),
    );
    calls.length = 0;
    await verify(req('tok-good'));
    now += 11_000;
    await verify(req('tok-good'));
    assert.equal(calls.length, 2);
  });

  test('wrong client credentials at the server and an unreachable server answer WC_AUTH_UNAVAILABLE', async () => {
    const wrongClient = await verifierFor(oauth2Method, { ...config(), client_secret: 'nope' });
    assert.equal(codeOf(await wrongClient(req('tok-good'))), 'WC_AUTH_UNAVAILABLE');
    const down = await verifierFor(oauth2Method, {
      introspection_endpoint: 'http://127.0.0.1:1/introspect',
      timeout_seconds: 1,
    });
    assert.equal(codeOf(await down(req('tok-good'))), 'WC_AUTH_UNAVAILABLE');
  });

  test('missing header and wrong token type', async () => {
    const verify = await verifierFor(oauth2Method, config());
    assert.equal(codeOf(await verify(req())), 'WC_AUTH_MISSING');
    assert.equal(codeOf(await verify(req('tok-good', 'Basic'))), 'WC_AUTH_MALFORMED');
  });
});

describe('oauth2 with local JWT validation', () => {
  const secret = 'oauth2-jwt-secret-at-least-32-bytes';
  const sign = (key: string, claims: Record<string, unknown>, exp = nowSeconds + 60) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(key));

  test('valid token with scope; wrong secret, expired, missing scope, wrong audience', async () => {
    const verify = await verifierFor(oauth2Method, {
      jwt_secret: secret,
      required_scope: 'webhooks:write',
      audience: 'relay',
    });
    assert.equal(
      codeOf(await verify(req(await sign(secret, { scope: 'webhooks:write', aud: 'relay' })))),
      'ok',
    );
    assert.equal(
      codeOf(await verify(req(await sign(secret, { scp: ['webhooks:write'], aud: 'relay' })))),
      'ok',
    );
    assert.equal(
      codeOf(await verify(req(await sign('x'.repeat(40), { scope: 'webhooks:write', aud: 'relay' })))),
      'WC_AUTH_MISMATCH',
    );
    assert.equal(
      codeOf(
        await verify(req(await sign(secret, { scope: 'webhooks:write', aud: 'relay' }, nowSeconds - 5))),
      ),
      'WC_AUTH_EXPIRED',
    );
    assert.equal(
      codeOf(await verify(req(await sign(secret, { scope: 'read', aud: 'relay' })))),
      'WC_AUTH_MISMATCH',
    );
    assert.equal(
      codeOf(await verify(req(await sign(secret, { scope: 'webhooks:write', aud: 'other' })))),
      'WC_AUTH_MISMATCH',
    );
  });

  test('a rotated (second) jwt_secret is accepted', async () => {
    const verify = await verifierFor(oauth2Method, { jwt_secret: ['n'.repeat(40), secret] });
    assert.equal(codeOf(await verify(req(await sign(secret, {})))), 'ok');
  });

  test('fail-open and ambiguous configs are refused', () => {
    for (const raw of [
      {},
      { validate_token: false },
      { jwt_secret: secret, validate_token: false },
      { jwt_secret: '' },
      { jwt_secret: secret, jwt_algorithms: ['none'] },
      { jwt_secret: secret, jwt_algorithms: ['HS256', 'RS256'] },
      { introspection_endpoint: 'not a url' },
      { introspection_endpoint: 'http://127.0.0.1/i', client_id: 'only-id' },
      { introspection_endpoint: 'http://127.0.0.1/i', jwt_secret: secret },
    ]) {
      assert.ok(rejects(oauth2Method, raw), JSON.stringify(raw));
    }
  });
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { makeContext, makeRequest, rejects, verifierFor } from '../testing.js';
import { jwtMethod } from './index.js';

const req = (token?: string, scheme = 'Bearer') =>
  makeRequest(token === undefined ? {} : { headers: { authorization: `${scheme} ${token}` } });
const codeOf = (result: { ok: boolean; code?: string }) => (result.ok ? 'ok' : result.code);
const now = Math.floor(Date.now() / 1000);

async function hs(secret: string, claims: Record<string, unknown> = {}, alg = 'HS256') {
  return new SignJWT({ sub: 'sender', ...claims })
    .setProtectedHeader({ alg })
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(new TextEncoder().encode(secret));
}

describe('jwt', () => {
  const secret = 'a-very-long-hmac-secret-for-hs256!';

  test('HS256 valid; wrong secret, tampered payload and expired token rejected', async () => {
    const verify = await verifierFor(jwtMethod, { secret });
    assert.equal(codeOf(await verify(req(await hs(secret)))), 'ok');
    assert.equal(
      codeOf(await verify(req(await hs('another-secret-of-decent-length!!')))),
      'WC_AUTH_MISMATCH',
    );
    const [h, , s] = (await hs(secret)).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', exp: now + 300 })).toString('base64url');
    assert.equal(codeOf(await verify(req(`${h}.${forged}.${s}`))), 'WC_AUTH_MISMATCH');
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now - 10)
      .sign(new TextEncoder().encode(secret));
    const result = await verify(req(expired));
    assert.equal(codeOf(result), 'WC_AUTH_EXPIRED');
    assert.ok(
      !result.ok && result.challenge === 'Bearer error="invalid_token"' && !result.detail.includes(secret),
    );
  });

  test('leeway and verify_exp', async () => {
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now - 10)
      .sign(new TextEncoder().encode(secret));
    assert.equal(
      codeOf(await (await verifierFor(jwtMethod, { secret, leeway_seconds: 30 }))(req(expired))),
      'ok',
    );
    assert.equal(
      codeOf(await (await verifierFor(jwtMethod, { secret, verify_exp: 'false' }))(req(expired))),
      'ok',
    );
  });

  test('missing header, wrong scheme, malformed token', async () => {
    const verify = await verifierFor(jwtMethod, { secret });
    const missing = await verify(req());
    assert.equal(codeOf(missing), 'WC_AUTH_MISSING');
    assert.ok(!missing.ok && missing.challenge === 'Bearer');
    assert.equal(codeOf(await verify(req(await hs(secret), 'Token'))), 'WC_AUTH_MALFORMED');
    assert.equal(codeOf(await verify(req('not.a.jwt'))), 'WC_AUTH_MALFORMED');
  });

  test('only the configured algorithm: alg none and a different HS algorithm are refused', async () => {
    const verify = await verifierFor(jwtMethod, { secret });
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
    assert.notEqual(codeOf(await verify(req(none))), 'ok');
    assert.equal(codeOf(await verify(req(await hs(secret, {}, 'HS512')))), 'WC_AUTH_MISMATCH');
  });

  test('issuer, audience and required claims', async () => {
    const verify = await verifierFor(jwtMethod, {
      secret,
      issuer: 'https://idp.example',
      audience: ['relay', 'other'],
      required_claims: ['sub', 'jti'],
    });
    const good = await hs(secret, { iss: 'https://idp.example', aud: 'relay', jti: '1' });
    assert.equal(codeOf(await verify(req(good))), 'ok');
    assert.equal(
      codeOf(await verify(req(await hs(secret, { iss: 'https://evil.example', aud: 'relay', jti: '1' })))),
      'WC_AUTH_MISMATCH',
    );
    assert.equal(
      codeOf(await verify(req(await hs(secret, { iss: 'https://idp.example', aud: 'nope', jti: '1' })))),
      'WC_AUTH_MISMATCH',
    );
    assert.equal(
      codeOf(await verify(req(await hs(secret, { aud: 'relay', jti: '1' })))),
      'WC_AUTH_MALFORMED',
    );
    assert.equal(
      codeOf(await verify(req(await hs(secret, { iss: 'https://idp.example', aud: 'relay' })))),
      'WC_AUTH_MALFORMED',
    );
  });

  test('a rotated (second) secret is accepted', async () => {
    const verify = await verifierFor(jwtMethod, { secret: ['new-secret-new-secret-new-secret!', secret] });
    assert.equal(codeOf(await verify(req(await hs(secret)))), 'ok');
  });

  test('RS256 and ES256 with PEM public keys; an HS256 token signed with the public key is refused', async () => {
    for (const alg of ['RS256', 'ES256']) {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const pem = await exportSPKI(publicKey);
      const verify = await verifierFor(jwtMethod, { secret: pem, algorithm: alg.toLowerCase() });
      const token = await new SignJWT({ sub: 'x' })
        .setProtectedHeader({ alg })
        .setExpirationTime(now + 60)
        .sign(privateKey);
      assert.equal(codeOf(await verify(req(token))), 'ok', alg);
      const other = await generateKeyPair(alg);
      const wrong = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg }).sign(other.privateKey);
      assert.equal(codeOf(await verify(req(wrong))), 'WC_AUTH_MISMATCH', alg);
      const confused = await new SignJWT({ sub: 'x' })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(pem));
      assert.equal(codeOf(await verify(req(confused))), 'WC_AUTH_MISMATCH', alg);
    }
  });

  test('fail-open and unusable configs are refused', () => {
    for (const raw of [
      {},
      { secret: '' },
      { secret: '  ' },
      { secret: 'x', algorithm: 'none' },
      { secret: 'x', algorithm: 'HS1' },
      { secret: 'x', algorithm: ['HS256', 'RS256'] },
      { secret: 'not a pem', algorithm: 'RS256' },
      { jwks_url: 'http://127.0.0.1/jwks', algorithm: 'HS256' },
      { jwks_url: 'file:///etc/jwks' },
      { secret: 'x', jwks_url: 'http://127.0.0.1/jwks' },
      { secret: 'x', issuer: '' },
      { secret: 'x', verify: true },
    ]) {
      assert.ok(rejects(jwtMethod, raw), JSON.stringify(raw));
    }
  });
});

describe('jwt with a JWKS served on loopback', () => {
  let server: Server;
  let url: string;
  let fetches = 0;
  let privateKey: CryptoKey;
  let rotatedKey: CryptoKey;

  before(async () => {
    const first = await generateKeyPair('RS256', { extractable: true });
    const second = await generateKeyPair('ES256', { extractable: true });
    privateKey = first.privateKey;
    rotatedKey = second.privateKey;
    const keys = [
      { ...(await exportJWK(first.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(second.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' },
    ];
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('tokens verify against the JWKS, which is fetched once and cached', async () => {
    const verify = await verifierFor(jwtMethod, {
      jwks_url: url,
      algorithm: ['RS256', 'ES256'],
      issuer: 'idp',
    });
    const t1 = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer('idp')
      .setExpirationTime(now + 60)
      .sign(privateKey);
    const t2 = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k2' })
      .setIssuer('idp')
      .setExpirationTime(now + 60)
      .sign(rotatedKey);
    assert.equal(codeOf(await verify(req(t1))), 'ok');
    assert.equal(codeOf(await verify(req(t2))), 'ok');
    assert.equal(codeOf(await verify(req(t1))), 'ok');
    assert.equal(fetches, 1);
    const stranger = await generateKeyPair('RS256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer('idp')
      .sign(stranger.privateKey);
    assert.equal(codeOf(await verify(req(forged))), 'WC_AUTH_MISMATCH');
  });

  test('an unreachable JWKS answers WC_AUTH_UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const verify = await verifierFor(
      jwtMethod,
      { jwks_url: `http://127.0.0.1:${port}/jwks`, timeout_seconds: 1 },
      makeContext(),
    );
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    assert.equal(codeOf(await verify(req(token))), 'WC_AUTH_UNAVAILABLE');
  });
});

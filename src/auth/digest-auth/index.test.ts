import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { makeContext, makeRequest, rejects, verifierFor } from '../testing.js';
import type { AuthResult, AuthVerifier } from '../types.js';
import { digestAuthMethod, parseDigestParams } from './index.js';

/** An independent RFC 7616 client: computes the response from the spec's formulas with node:crypto. */
function digestHeader(options: {
  challenge: string;
  username: string;
  password: string;
  method?: string;
  uri: string;
  nc: number;
  algorithm?: string;
  qop?: 'auth' | 'auth-int';
  body?: string;
  cnonce?: string;
}): string {
  const algorithm = options.algorithm ?? 'MD5';
  const hashName = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  const h = (text: string) => createHash(hashName).update(text).digest('hex');
  const realm = /realm="([^"]*)"/.exec(options.challenge)?.[1] ?? '';
  const nonce = /nonce="([^"]*)"/.exec(options.challenge)?.[1] ?? '';
  const qop = options.qop ?? 'auth';
  const cnonce = options.cnonce ?? randomBytes(8).toString('hex');
  const nc = options.nc.toString(16).padStart(8, '0');
  let ha1 = h(`${options.username}:${realm}:${options.password}`);
  if (algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
  const method = options.method ?? 'POST';
  const ha2 =
    qop === 'auth-int'
      ? h(`${method}:${options.uri}:${h(options.body ?? '')}`)
      : h(`${method}:${options.uri}`);
  const response = h(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
  return `Digest username="${options.username}", realm="${realm}", nonce="${nonce}", uri="${options.uri}", algorithm=${algorithm}, qop=${qop}, nc=${nc}, cnonce="${cnonce}", response="${response}"`;
}

const uri = '/webhook/digest?x=1';
const codeOf = (result: AuthResult) => (result.ok ? 'ok' : result.code);
const post = (authorization?: string, body = '{"a":1}', url = uri) =>
  makeRequest({ url, body, headers: authorization === undefined ? {} : { authorization } });

async function challengeFrom(verify: AuthVerifier): Promise<string> {
  const result = await verify(post());
  assert.equal(codeOf(result), 'WC_AUTH_MISSING');
  assert.ok(!result.ok && result.challenge !== undefined);
  return result.ok ? '' : (result.challenge ?? '');
}

describe('digest_auth', () => {
  const config = { username: 'relay', password: 'p4ss' };

  test('the challenge names realm, qop, algorithm and a fresh nonce', async () => {
    const verify = await verifierFor(digestAuthMethod, { ...config, algorithm: ['SHA-256', 'MD5'] });
    const challenge = await challengeFrom(verify);
    assert.match(
      challenge,
      /^Digest realm="Webhook API", qop="auth", algorithm=SHA-256, nonce="[A-Za-z0-9_-]{43}"/,
    );
    assert.match(challenge, /, Digest realm="Webhook API", qop="auth", algorithm=MD5, nonce=/);
    assert.notEqual(challenge, await challengeFrom(verify));
  });

  test('valid MD5 response accepted; the same nonce count replayed is refused; a higher count passes', async () => {
    const verify = await verifierFor(digestAuthMethod, config);
    const challenge = await challengeFrom(verify);
    const first = digestHeader({ challenge, ...config, uri, nc: 1 });
    assert.equal(codeOf(await verify(post(first))), 'ok');
    const replay = await verify(post(first));
    assert.equal(codeOf(replay), 'WC_AUTH_REPLAYED');
    assert.ok(!replay.ok && replay.challenge?.includes('stale=true'));
    assert.equal(codeOf(await verify(post(digestHeader({ challenge, ...config, uri, nc: 2 })))), 'ok');
    assert.equal(
      codeOf(await verify(post(digestHeader({ challenge, ...config, uri, nc: 2 })))),
      'WC_AUTH_REPLAYED',
    );
  });

  test('SHA-256, SHA-256-sess and auth-int (body covered)', async () => {
    for (const algorithm of ['SHA-256', 'SHA-256-sess', 'MD5-sess']) {
      const verify = await verifierFor(digestAuthMethod, { ...config, algorithm, qop: ['auth-int', 'auth'] });
      const challenge = await challengeFrom(verify);
      assert.match(challenge, /qop="auth-int, auth"/);
      const header = digestHeader({
        challenge,
        ...config,
        uri,
        nc: 1,
        algorithm,
        qop: 'auth-int',
        body: '{"a":1}',
      });
      assert.equal(codeOf(await verify(post(header))), 'ok', algorithm);
      const tampered = digestHeader({
        challenge,
        ...config,
        uri,
        nc: 2,
        algorithm,
        qop: 'auth-int',
        body: '{"a":1}',
      });
      assert.equal(codeOf(await verify(post(tampered, '{"a":2}'))), 'WC_AUTH_MISMATCH', algorithm);
    }
  });

  test('an algorithm or qop that is not configured is refused', async () => {
    const verify = await verifierFor(digestAuthMethod, { ...config, algorithm: 'SHA-256' });
    const challenge = await challengeFrom(verify);
    assert.equal(
      codeOf(await verify(post(digestHeader({ challenge, ...config, uri, nc: 1, algorithm: 'MD5' })))),
      'WC_AUTH_MALFORMED',
    );
    assert.equal(
      codeOf(
        await verify(
          post(digestHeader({ challenge, ...config, uri, nc: 1, algorithm: 'SHA-256', qop: 'auth-int' })),
        ),
      ),
      'WC_AUTH_MALFORMED',
    );
  });

  test('wrong password, wrong user, uri of another resource, forged nonce', async () => {
    const verify = await verifierFor(digestAuthMethod, config);
    const challenge = await challengeFrom(verify);
    const wrong = await verify(
      post(digestHeader({ challenge, username: 'relay', password: 'nope', uri, nc: 1 })),
    );
    assert.equal(codeOf(wrong), 'WC_AUTH_MISMATCH');
    assert.ok(!wrong.ok && !wrong.detail.includes('p4ss'));
    assert.equal(
      codeOf(
        await verify(post(digestHeader({ challenge, username: 'admin', password: 'p4ss', uri, nc: 1 }))),
      ),
      'WC_AUTH_MISMATCH',
    );
    const otherUri = digestHeader({ challenge, ...config, uri: '/webhook/other', nc: 1 });
    assert.equal(codeOf(await verify(post(otherUri))), 'WC_AUTH_MISMATCH');
    // A nonce the server never issued: correct response for it, but stale → fresh challenge.
    const forged = challenge.replace(/nonce="[^"]*"/, `nonce="${randomBytes(32).toString('base64url')}"`);
    const result = await verify(post(digestHeader({ challenge: forged, ...config, uri, nc: 1 })));
    assert.equal(codeOf(result), 'WC_AUTH_EXPIRED');
    assert.ok(!result.ok && result.challenge?.includes('stale=true'));
  });

  test('absolute-form uri of this request is accepted', async () => {
    const verify = await verifierFor(digestAuthMethod, config);
    const challenge = await challengeFrom(verify);
    const header = digestHeader({ challenge, ...config, uri: `http://localhost:8000${uri}`, nc: 1 });
    assert.equal(codeOf(await verify(post(header))), 'ok');
  });

  test('an expired nonce answers stale=true', async () => {
    let now = 1_700_000_000_000;
    const verify = await verifierFor(
      digestAuthMethod,
      { ...config, nonce_ttl_seconds: 60 },
      makeContext({ now: () => now }),
    );
    const challenge = await challengeFrom(verify);
    now += 61_000;
    const result = await verify(post(digestHeader({ challenge, ...config, uri, nc: 1 })));
    assert.equal(codeOf(result), 'WC_AUTH_EXPIRED');
    assert.ok(!result.ok && /stale=true/.test(result.challenge ?? ''));
  });

  test('a full nonce table never re-opens a replay: evicted nonces become stale', async () => {
    const verify = await verifierFor(digestAuthMethod, { ...config, max_nonces: 10 });
    const first = await challengeFrom(verify);
    const header = digestHeader({ challenge: first, ...config, uri, nc: 1 });
    assert.equal(codeOf(await verify(post(header))), 'ok');
    for (let i = 0; i < 12; i++) {
      const challenge = await challengeFrom(verify);
      assert.equal(codeOf(await verify(post(digestHeader({ challenge, ...config, uri, nc: 1 })))), 'ok');
    }
    assert.equal(codeOf(await verify(post(header))), 'WC_AUTH_EXPIRED');
  });

  test('a rotated (second) password is accepted', async () => {
    const verify = await verifierFor(digestAuthMethod, { username: 'relay', password: ['new', 'old'] });
    const challenge = await challengeFrom(verify);
    assert.equal(
      codeOf(await verify(post(digestHeader({ challenge, username: 'relay', password: 'old', uri, nc: 1 })))),
      'ok',
    );
  });

  test('malformed headers', async () => {
    const verify = await verifierFor(digestAuthMethod, config);
    const challenge = await challengeFrom(verify);
    const good = digestHeader({ challenge, ...config, uri, nc: 1 });
    for (const header of [
      'Basic abc',
      good.replace(/, cnonce="[^"]*"/, ''),
      good.replace(/, qop=auth/, ''),
      good.replace(/nc=00000001/, 'nc=1'),
      good.replace('username="relay"', 'username="relay'),
    ]) {
      assert.equal(codeOf(await verify(post(header))), 'WC_AUTH_MALFORMED', header);
    }
  });

  test('parameter parser handles quoted commas and escapes', () => {
    const params = parseDigestParams('username="a\\"b", uri="/x?a=1,2", nc=00000001');
    assert.equal(params?.get('username'), 'a"b');
    assert.equal(params?.get('uri'), '/x?a=1,2');
    assert.equal(params?.get('nc'), '00000001');
  });

  test('fail-open configs are refused', () => {
    for (const raw of [
      {},
      { username: 'u' },
      { password: 'p' },
      { username: '', password: 'p' },
      { username: 'u', password: '' },
      { username: 'u', password: 'p', algorithm: 'SHA-1' },
      { username: 'u', password: 'p', qop: 'none' },
      { username: 'u', password: 'p', qop: [] },
    ]) {
      assert.ok(rejects(digestAuthMethod, raw), JSON.stringify(raw));
    }
  });
});

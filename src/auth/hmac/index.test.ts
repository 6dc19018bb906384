import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { makeContext, makeRequest, rejects, verifierFor } from '../testing.js';
import { hmacMethod } from './index.js';

const body = '{"event":"order.created","id":42}';
// Independent signer: node:crypto directly.
const sign = (secret: string, data: string, algorithm = 'sha256', encoding: 'hex' | 'base64' = 'hex') =>
  createHmac(algorithm, secret).update(data).digest(encoding);
const req = (headers: Record<string, string>, payload = body) => makeRequest({ headers, body: payload });

function assertCode(result: { ok: boolean; code?: string }, code: string) {
  assert.equal(result.ok, false);
  assert.equal(result.code, code);
}

describe('hmac', () => {
  test('reference default: X-HMAC-Signature, sha256 hex, optional sha256= prefix, either case', async () => {
    const verify = await verifierFor(hmacMethod, { secret: 'shh' });
    const signature = sign('shh', body);
    assert.deepEqual(await verify(req({ 'x-hmac-signature': signature })), { ok: true });
    assert.deepEqual(await verify(req({ 'x-hmac-signature': `sha256=${signature}` })), { ok: true });
    assert.deepEqual(await verify(req({ 'x-hmac-signature': signature.toUpperCase() })), { ok: true });
  });

  test('sha1 and sha512, custom header and required prefix', async () => {
    for (const algorithm of ['sha1', 'sha512']) {
      const verify = await verifierFor(hmacMethod, {
        secret: 'shh',
        algorithm: algorithm.toUpperCase(),
        header: 'X-Signature',
        prefix: 'v1=',
      });
      const signature = sign('shh', body, algorithm);
      assert.deepEqual(await verify(req({ 'x-signature': `v1=${signature}` })), { ok: true });
      assertCode(await verify(req({ 'x-signature': signature })), 'WC_AUTH_MALFORMED');
    }
  });

  test('base64 encoding', async () => {
    const verify = await verifierFor(hmacMethod, { secret: 'shh', encoding: 'base64', header: 'X-Sig' });
    assert.deepEqual(await verify(req({ 'x-sig': sign('shh', body, 'sha256', 'base64') })), { ok: true });
    assertCode(await verify(req({ 'x-sig': sign('shh', body) })), 'WC_AUTH_MISMATCH');
  });

  test('tampered body, wrong secret, missing and malformed signatures', async () => {
    const verify = await verifierFor(hmacMethod, { secret: 'shh' });
    const signature = sign('shh', body);
    assertCode(
      await verify(req({ 'x-hmac-signature': signature }, body.replace('42', '43'))),
      'WC_AUTH_MISMATCH',
    );
    assertCode(await verify(req({ 'x-hmac-signature': sign('other', body) })), 'WC_AUTH_MISMATCH');
    assertCode(await verify(req({})), 'WC_AUTH_MISSING');
    assertCode(
      await verify(req({ 'x-hmac-signature': 'sha1=' + sign('shh', body, 'sha1') })),
      'WC_AUTH_MALFORMED',
    );
    assertCode(await verify(req({ 'x-hmac-signature': `t=1,v1=${signature}` })), 'WC_AUTH_MALFORMED');
    assertCode(await verify(req({ 'x-hmac-signature': signature.slice(0, 10) })), 'WC_AUTH_MISMATCH');
    const result = await verify(req({ 'x-hmac-signature': sign('other', body) }));
    assert.ok(!result.ok && !result.detail.includes('shh'));
  });

  test('a rotated (second) secret is accepted', async () => {
    const verify = await verifierFor(hmacMethod, { secret: ['new-secret', 'old-secret'] });
    assert.deepEqual(await verify(req({ 'x-hmac-signature': sign('old-secret', body) })), { ok: true });
    assert.deepEqual(await verify(req({ 'x-hmac-signature': sign('new-secret', body) })), { ok: true });
  });

  test('timestamp header: signed timestamp within tolerance; expired and tampered timestamps rejected', async () => {
    let now = 1_700_000_000_000;
    const context = makeContext({ now: () => now });
    const verify = await verifierFor(
      hmacMethod,
      { secret: 'shh', header: 'X-Signature', timestamp_header: 'X-Timestamp', tolerance_seconds: '60' },
      context,
    );
    const ts = String(now / 1000);
    const headers = { 'x-signature': sign('shh', `${ts}.${body}`), 'x-timestamp': ts };
    assert.deepEqual(await verify(req(headers)), { ok: true });
    // Replay of the same request two minutes later.
    now += 120_000;
    assertCode(await verify(req(headers)), 'WC_AUTH_EXPIRED');
    // Moving the timestamp forward without re-signing breaks the signature.
    const fresh = String(now / 1000);
    assertCode(await verify(req({ ...headers, 'x-timestamp': fresh })), 'WC_AUTH_MISMATCH');
    assertCode(await verify(req({ 'x-signature': headers['x-signature'] })), 'WC_AUTH_MISSING');
    assertCode(await verify(req({ ...headers, 'x-timestamp': '2024-01-01' })), 'WC_AUTH_MALFORMED');
  });

  test('custom signed_payload template', async () => {
    const now = 1_700_000_000_000;
    const verify = await verifierFor(
      hmacMethod,
      { secret: 'shh', timestamp_header: 'X-Ts', signed_payload: 'v0:{timestamp}:{body}', prefix: 'v0=' },
      makeContext({ now: () => now }),
    );
    const ts = String(now / 1000);
    const headers = { 'x-hmac-signature': `v0=${sign('shh', `v0:${ts}:${body}`)}`, 'x-ts': ts };
    assert.deepEqual(await verify(req(headers)), { ok: true });
  });

  test('fail-open and unusable configs are refused', () => {
    for (const raw of [
      {},
      { secret: '' },
      { secret: '   ' },
      { secret: [] },
      { secret: 'x', algorithm: 'md5' },
      { secret: 'x', encoding: 'binary' },
      { secret: 'x', header: 'bad header' },
      { secret: 'x', signed_payload: '{body}' },
      { secret: 'x', timestamp_header: 'X-Ts', signed_payload: '{body}' },
      { secret: 'x', timestamp_header: 'X-Ts', signed_payload: '{body}.{timestamp}' },
      { secret: 'x', tolerance_seconds: 0 },
      { secret: 'x', secrte: 'typo' },
    ]) {
      assert.ok(rejects(hmacMethod, raw), JSON.stringify(raw));
    }
  });

  test('credential header is the lower-cased signature header', () => {
    const config = hmacMethod.schema.parse({ secret: 'x', header: 'X-Hub-Signature-256' });
    assert.deepEqual(hmacMethod.credentialHeaders?.(config), ['x-hub-signature-256']);
  });
});

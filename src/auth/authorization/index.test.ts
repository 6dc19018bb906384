import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRequest, rejects, verifierFor } from '../testing.js';
import { authorizationMethod } from './index.js';

const req = (authorization?: string) =>
  makeRequest(authorization === undefined ? {} : { headers: { authorization } });

describe('authorization', () => {
  test('a Bearer token is accepted; scheme, case and spacing are exact', async () => {
    const verify = await verifierFor(authorizationMethod, 'Bearer s3cr3t-token');
    assert.deepEqual(await verify(req('Bearer s3cr3t-token')), { ok: true });
    assert.deepEqual(await verify(req('Bearer s3cr3t-token  ')), { ok: true });
    assert.equal((await verify(req('bearer s3cr3t-token'))).ok, false);
    assert.equal((await verify(req('s3cr3t-token'))).ok, false);
    const doubleSpace = await verify(req('Bearer  s3cr3t-token'));
    assert.equal(doubleSpace.ok || doubleSpace.code, 'WC_AUTH_MALFORMED');
  });

  test('wrong token, missing header and forbidden characters have their own codes', async () => {
    const verify = await verifierFor(authorizationMethod, 'Bearer s3cr3t-token');
    const wrong = await verify(req('Bearer other'));
    assert.equal(wrong.ok || wrong.code, 'WC_AUTH_MISMATCH');
    assert.ok(!wrong.ok && !wrong.detail.includes('s3cr3t'));
    const missing = await verify(req());
    assert.equal(missing.ok || missing.code, 'WC_AUTH_MISSING');
    const injected = await verify(req('Bearer s3cr3t-token\r\nX: y'));
    assert.equal(injected.ok || injected.code, 'WC_AUTH_MALFORMED');
    const tooLong = await verify(req(`Bearer ${'a'.repeat(9000)}`));
    assert.equal(tooLong.ok || tooLong.code, 'WC_AUTH_MALFORMED');
  });

  test('a non-Bearer value compares the whole trimmed header', async () => {
    const verify = await verifierFor(authorizationMethod, 'Token abc');
    assert.deepEqual(await verify(req(' Token abc ')), { ok: true });
    assert.equal((await verify(req('Token abd'))).ok, false);
  });

  test('a list of values allows rotation: the second value is accepted', async () => {
    const verify = await verifierFor(authorizationMethod, ['Bearer new-token', 'Bearer old-token']);
    assert.deepEqual(await verify(req('Bearer old-token')), { ok: true });
    assert.deepEqual(await verify(req('Bearer new-token')), { ok: true });
    assert.equal((await verify(req('Bearer retired'))).ok, false);
  });

  test('fail-open configs are refused', () => {
    for (const raw of ['', '   ', [], [''], {}, 42, null, undefined]) {
      assert.ok(rejects(authorizationMethod, raw), JSON.stringify(raw));
    }
  });

  test('reads only the Authorization header', () => {
    assert.deepEqual(authorizationMethod.credentialHeaders?.('Bearer x'), ['authorization']);
  });
});

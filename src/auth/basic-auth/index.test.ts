import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRequest, rejects, verifierFor } from '../testing.js';
import { basicAuthMethod } from './index.js';

// The independent "client": Node's Buffer base64 encoding of user:pass, as RFC 7617 describes.
const basic = (user: string, pass: string, encoding: BufferEncoding = 'utf8') =>
  `Basic ${Buffer.from(`${user}:${pass}`, encoding).toString('base64')}`;
const req = (authorization?: string) =>
  makeRequest(authorization === undefined ? {} : { headers: { authorization } });

describe('basic_auth', () => {
  const config = { username: 'relay', password: 'p:ss wörd' };

  test('valid credentials are accepted (password may contain colons, UTF-8)', async () => {
    const verify = await verifierFor(basicAuthMethod, config);
    assert.deepEqual(await verify(req(basic('relay', 'p:ss wörd'))), { ok: true });
  });

  test('Latin-1 encoded credentials decode by fallback', async () => {
    const verify = await verifierFor(basicAuthMethod, { username: 'relay', password: 'wörd' });
    assert.deepEqual(await verify(req(basic('relay', 'wörd', 'latin1'))), { ok: true });
  });

  test('wrong password or user name → WC_AUTH_MISMATCH with a Basic challenge, no secret in detail', async () => {
    const verify = await verifierFor(basicAuthMethod, config);
    for (const header of [
      basic('relay', 'wrong'),
      basic('Relay', 'p:ss wörd'),
      basic('relay', 'P:ss wörd'),
    ]) {
      const result = await verify(req(header));
      assert.equal(result.ok, false);
      if (result.ok) continue;
      assert.equal(result.code, 'WC_AUTH_MISMATCH');
      assert.equal(result.challenge, 'Basic realm="Webhook API", charset="UTF-8"');
      assert.ok(!result.detail.includes('wörd'));
    }
  });

  test('missing and malformed headers have their own codes', async () => {
    const verify = await verifierFor(basicAuthMethod, config);
    const missing = await verify(req());
    assert.equal(missing.ok || missing.code, 'WC_AUTH_MISSING');
    const good = basic('relay', 'p:ss wörd');
    for (const header of [
      good.replace('Basic', 'basic'),
      good.replace('Basic ', 'Basic  '),
      good.replace('Basic ', 'Basic\t'),
      'Basic ',
      `${good} `.replace('Basic ', 'Basic x'),
      'Basic a-b_c',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      'Bearer abc',
    ]) {
      const result = await verify(req(header));
      assert.equal(result.ok || result.code, 'WC_AUTH_MALFORMED', header);
    }
  });

  test('a password list allows rotation: the second password is accepted', async () => {
    const verify = await verifierFor(basicAuthMethod, { username: 'relay', password: ['new', 'old'] });
    assert.deepEqual(await verify(req(basic('relay', 'old'))), { ok: true });
    assert.deepEqual(await verify(req(basic('relay', 'new'))), { ok: true });
    assert.equal((await verify(req(basic('relay', 'older')))).ok, false);
  });

  test('fail-open configs are refused', () => {
    for (const raw of [
      {},
      { username: 'relay' },
      { password: 'x' },
      { username: '', password: 'x' },
      { username: 'relay', password: '  ' },
      { username: 'relay', password: [] },
      { username: 'relay', password: 'x', passwrd: 'typo' },
      'relay:x',
    ]) {
      assert.ok(rejects(basicAuthMethod, raw), JSON.stringify(raw));
    }
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRequest, rejects, verifierFor } from '../testing.js';
import { queryAuthMethod } from './index.js';

const req = (query: string) => makeRequest({ url: `/webhook/test${query}` });
const codeOf = (result: { ok: boolean; code?: string }) => (result.ok ? 'ok' : result.code);

describe('query_auth', () => {
  test('default parameter api_key; exact and case-sensitive by default', async () => {
    const verify = await verifierFor(queryAuthMethod, { api_key: 'Key-AbC' });
    assert.equal(codeOf(await verify(req('?api_key=Key-AbC'))), 'ok');
    assert.equal(codeOf(await verify(req('?api_key=key-abc'))), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(req('?api_key=%20Key-AbC'))), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(req('?other=Key-AbC'))), 'WC_AUTH_MISSING');
    assert.equal(codeOf(await verify(req('?api_key='))), 'WC_AUTH_MALFORMED');
    assert.equal(codeOf(await verify(req('?api_key=Key-AbC%00'))), 'WC_AUTH_MALFORMED');
    assert.equal(codeOf(await verify(req(`?api_key=${'a'.repeat(1001)}`))), 'WC_AUTH_MALFORMED');
  });

  test('repeated parameter: the last value counts', async () => {
    const verify = await verifierFor(queryAuthMethod, { api_key: 'good' });
    assert.equal(codeOf(await verify(req('?api_key=bad&api_key=good'))), 'ok');
    assert.equal(codeOf(await verify(req('?api_key=good&api_key=bad'))), 'WC_AUTH_MISMATCH');
  });

  test('custom parameter, opt-in case-insensitive, rotated key accepted', async () => {
    const verify = await verifierFor(queryAuthMethod, {
      parameter_name: 'token',
      api_key: ['New', 'Old'],
      case_sensitive: false,
    });
    assert.equal(codeOf(await verify(req('?token=OLD'))), 'ok');
    assert.equal(codeOf(await verify(req('?token=new'))), 'ok');
  });

  test('fail-open and invalid configs are refused', () => {
    for (const raw of [
      {},
      { api_key: '' },
      { parameter_name: 'key' },
      { api_key: 'k', parameter_name: 'a b' },
      { api_key: 'k', parameter_name: 'x'.repeat(101) },
    ]) {
      assert.ok(rejects(queryAuthMethod, raw), JSON.stringify(raw));
    }
  });
});

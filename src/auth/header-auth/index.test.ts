import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRequest, rejects, verifierFor } from '../testing.js';
import { headerAuthMethod } from './index.js';

const req = (headers: Record<string, string> = {}) => makeRequest({ headers });
const codeOf = (result: { ok: boolean; code?: string }) => (result.ok ? 'ok' : result.code);

describe('header_auth', () => {
  test('default header X-API-Key; exact, case-sensitive by default', async () => {
    const verify = await verifierFor(headerAuthMethod, { api_key: 'Key-AbC' });
    assert.equal(codeOf(await verify(req({ 'x-api-key': 'Key-AbC' }))), 'ok');
    assert.equal(codeOf(await verify(req({ 'x-api-key': 'key-abc' }))), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(req({ 'x-api-key': ' Key-AbC' }))), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(req({ 'x-api-key': 'wrong' }))), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(req())), 'WC_AUTH_MISSING');
    assert.equal(codeOf(await verify(req({ 'x-api-key': '  ' }))), 'WC_AUTH_MALFORMED');
    const result = await verify(req({ 'x-api-key': 'wrong' }));
    assert.ok(!result.ok && !result.detail.includes('Key-AbC'));
  });

  test('custom header and opt-in case-insensitive comparison', async () => {
    const verify = await verifierFor(headerAuthMethod, {
      header_name: 'X-Partner-Key',
      api_key: 'Key-AbC',
      case_sensitive: 'false',
    });
    assert.equal(codeOf(await verify(req({ 'x-partner-key': 'KEY-abc' }))), 'ok');
    assert.equal(codeOf(await verify(req({ 'x-api-key': 'Key-AbC' }))), 'WC_AUTH_MISSING');
  });

  test('a rotated (second) key is accepted', async () => {
    const verify = await verifierFor(headerAuthMethod, { api_key: ['new-key', 'old-key'] });
    assert.equal(codeOf(await verify(req({ 'x-api-key': 'old-key' }))), 'ok');
  });

  test('fail-open configs are refused', () => {
    for (const raw of [
      {},
      { api_key: '' },
      { api_key: ' ' },
      { header_name: 'X-Key' },
      { api_key: 'k', header_name: '' },
      { api_key: 'k', case_sensitive: 'maybe' },
    ]) {
      assert.ok(rejects(headerAuthMethod, raw), JSON.stringify(raw));
    }
  });
});

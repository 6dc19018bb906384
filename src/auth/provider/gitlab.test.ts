import { describe, test } from 'node:test';
import { makeRequest, verifierFor } from '../testing.js';
import { providerMethod } from './index.js';
import { assertCode, assertOk } from './test-support.js';

// GitLab sends the configured secret token verbatim in X-Gitlab-Token (no signature).
const req = (token?: string) =>
  makeRequest({
    body: '{"object_kind":"push"}',
    headers: token === undefined ? {} : { 'x-gitlab-token': token },
  });

describe('provider: gitlab', () => {
  test('valid, wrong and missing token', async () => {
    const verify = await verifierFor(providerMethod, { name: 'gitlab', secret: 'gl-token' });
    assertOk(await verify(req('gl-token')));
    assertCode(await verify(req('GL-TOKEN')), 'WC_AUTH_MISMATCH', ['gl-token']);
    assertCode(await verify(req('gl-token ')), 'WC_AUTH_MISMATCH');
    assertCode(await verify(req()), 'WC_AUTH_MISSING');
  });

  test('a rotated (second) token is accepted', async () => {
    const verify = await verifierFor(providerMethod, { name: 'gitlab', secret: ['new', 'old'] });
    assertOk(await verify(req('old')));
    assertCode(await verify(req('older')), 'WC_AUTH_MISMATCH');
  });
});

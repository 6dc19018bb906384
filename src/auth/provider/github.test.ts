import { describe, test } from 'node:test';
import { sign } from '@octokit/webhooks-methods';
import { makeRequest, verifierFor } from '../testing.js';
import { providerMethod } from './index.js';
import { assertCode, assertOk } from './test-support.js';

const body = JSON.stringify({ action: 'opened', number: 7 });
const req = (signature: string | undefined, payload = body) =>
  makeRequest({
    body: payload,
    headers: signature === undefined ? {} : { 'x-hub-signature-256': signature },
  });

describe('provider: github (signed with @octokit/webhooks-methods)', () => {
  test('valid, tampered, wrong secret, missing, malformed', async () => {
    const verify = await verifierFor(providerMethod, { name: 'github', secret: 'gh-secret' });
    const signature = await sign('gh-secret', body);
    assertOk(await verify(req(signature)));
    assertCode(await verify(req(signature, body.replace('7', '8'))), 'WC_AUTH_MISMATCH');
    assertCode(await verify(req(await sign('wrong', body))), 'WC_AUTH_MISMATCH', ['gh-secret']);
    assertCode(await verify(req(undefined)), 'WC_AUTH_MISSING');
    assertCode(await verify(req(signature.slice(7))), 'WC_AUTH_MALFORMED');
  });

  test('a rotated (second) secret is accepted', async () => {
    const verify = await verifierFor(providerMethod, { name: 'github', secret: ['new', 'old'] });
    assertOk(await verify(req(await sign('old', body))));
    assertOk(await verify(req(await sign('new', body))));
  });
});

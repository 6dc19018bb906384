import { describe, test } from 'node:test';
import { createHmac } from 'node:crypto';
import { makeRequest, verifierFor } from '../testing.js';
import { providerMethod } from './index.js';
import { assertCode, assertOk } from './test-support.js';

// Shopify has no signing helper on npm here; node:crypto computes its documented scheme independently.
const body = JSON.stringify({ id: 820982911946154500, email: 'jon@example.com' });
const sign = (secret: string, payload = body) =>
  createHmac('sha256', secret).update(payload).digest('base64');
const req = (signature: string | undefined, payload = body) =>
  makeRequest({
    body: payload,
    headers: signature === undefined ? {} : { 'x-shopify-hmac-sha256': signature },
  });

describe('provider: shopify', () => {
  test('valid, tampered, wrong secret, missing, malformed', async () => {
    const verify = await verifierFor(providerMethod, { name: 'shopify', secret: 'shp-secret' });
    assertOk(await verify(req(sign('shp-secret'))));
    assertCode(await verify(req(sign('shp-secret'), body.replace('jon', 'eve'))), 'WC_AUTH_MISMATCH');
    assertCode(await verify(req(sign('other'))), 'WC_AUTH_MISMATCH', ['shp-secret']);
    assertCode(await verify(req(undefined)), 'WC_AUTH_MISSING');
    assertCode(await verify(req('%%%')), 'WC_AUTH_MALFORMED');
    // A hex signature is not Shopify's format.
    const hex = createHmac('sha256', 'shp-secret').update(body).digest('hex');
    assertCode(await verify(req(hex)), 'WC_AUTH_MISMATCH');
  });

  test('a rotated (second) secret is accepted', async () => {
    const verify = await verifierFor(providerMethod, { name: 'shopify', secret: ['new', 'old'] });
    assertOk(await verify(req(sign('old'))));
  });
});

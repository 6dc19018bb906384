import { describe, test } from 'node:test';
import Stripe from 'stripe';
import { makeContext, makeRequest, verifierFor } from '../testing.js';
import { providerMethod } from './index.js';
import { assertCode, assertOk } from './test-support.js';

const stripe = new Stripe('sk_test_placeholder');
const body = JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded' });
const now = 1_700_000_000;
const context = makeContext({ now: () => now * 1000 });
const header = (secret: string, timestamp = now, payload = body) =>
  stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
const req = (signature: string | undefined, payload = body) =>
  makeRequest({ body: payload, headers: signature === undefined ? {} : { 'stripe-signature': signature } });

describe('provider: stripe (signed with stripe.webhooks.generateTestHeaderString)', () => {
  const config = { name: 'stripe', secret: 'whsec_test_secret' };

  test('valid signature accepted; tampered body and wrong secret rejected', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    assertOk(await verify(req(header('whsec_test_secret'))));
    assertCode(
      await verify(req(header('whsec_test_secret'), body.replace('evt_1', 'evt_2'))),
      'WC_AUTH_MISMATCH',
    );
    assertCode(await verify(req(header('whsec_other'))), 'WC_AUTH_MISMATCH', ['whsec_test_secret']);
  });

  test('an old timestamp (replay) is expired; moving t forward breaks the signature', async () => {
    const verify = await verifierFor(providerMethod, { ...config, tolerance_seconds: 60 }, context);
    const old = header('whsec_test_secret', now - 61);
    assertCode(await verify(req(old)), 'WC_AUTH_EXPIRED');
    assertCode(await verify(req(old.replace(`t=${now - 61}`, `t=${now}`))), 'WC_AUTH_MISMATCH');
    assertOk(await verify(req(header('whsec_test_secret', now - 59))));
  });

  test('several v1 values: any one valid signature passes (Stripe rolling its secret)', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    const good = header('whsec_test_secret').split(',v1=')[1];
    const other = header('whsec_retired').split(',v1=')[1];
    assertOk(await verify(req(`t=${now},v1=${other},v1=${good},v0=abc`)));
  });

  test('a rotated (second) configured secret is accepted', async () => {
    const verify = await verifierFor(
      providerMethod,
      { ...config, secret: ['whsec_new', 'whsec_old'] },
      context,
    );
    assertOk(await verify(req(header('whsec_old'))));
    assertOk(await verify(req(header('whsec_new'))));
  });

  test('missing and malformed headers', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    assertCode(await verify(req(undefined)), 'WC_AUTH_MISSING');
    assertCode(await verify(req('v1=abcd')), 'WC_AUTH_MALFORMED');
    assertCode(await verify(req(`t=${now}`)), 'WC_AUTH_MALFORMED');
    assertCode(await verify(req(`t=${now},v1=not-hex`)), 'WC_AUTH_MALFORMED');
    assertCode(
      await verify(req(header('whsec_test_secret').replace(`t=${now}`, 't=yesterday'))),
      'WC_AUTH_MALFORMED',
    );
  });
});

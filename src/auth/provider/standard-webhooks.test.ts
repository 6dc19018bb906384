import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Webhook as Svix } from 'svix';
import { makeContext, makeRequest, verifierFor } from '../testing.js';
import { providerMethod } from './index.js';
import { assertCode, assertOk } from './test-support.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const secret2 = `whsec_${Buffer.from('a second signing key, 32 bytes!!').toString('base64')}`;
const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'in_1' } });
const now = 1_700_000_000;
const context = makeContext({ now: () => now * 1000 });

function headers(signature: string, id = 'msg_1', ts = now, prefix = 'webhook') {
  return { [`${prefix}-id`]: id, [`${prefix}-timestamp`]: `${ts}`, [`${prefix}-signature`]: signature };
}
const req = (h: Record<string, string>, payload = body) => makeRequest({ body: payload, headers: h });

describe('provider: standard_webhooks (signed with the standardwebhooks package)', () => {
  const config = { name: 'standard_webhooks', secret };
  const sign = (key: string, id = 'msg_1', ts = now, payload = body) =>
    new Webhook(key).sign(id, new Date(ts * 1000), payload);

  test('valid, tampered body, tampered id, wrong secret', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    assertOk(await verify(req(headers(sign(secret)))));
    assertCode(await verify(req(headers(sign(secret)), body.replace('in_1', 'in_2'))), 'WC_AUTH_MISMATCH');
    assertCode(await verify(req(headers(sign(secret), 'msg_2'))), 'WC_AUTH_MISMATCH');
    assertCode(await verify(req(headers(sign(secret2)))), 'WC_AUTH_MISMATCH', [secret]);
  });

  test('several signatures in the header: any valid one passes', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    const both = `${sign(secret2)} ${sign(secret)} v1a,ignored`;
    assertOk(await verify(req(headers(both))));
  });

  test('replayed after the tolerance window → expired', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    assertCode(
      await verify(req(headers(sign(secret, 'msg_1', now - 400), 'msg_1', now - 400))),
      'WC_AUTH_EXPIRED',
    );
  });

  test('a rotated (second) secret is accepted', async () => {
    const verify = await verifierFor(providerMethod, { ...config, secret: [secret2, secret] }, context);
    assertOk(await verify(req(headers(sign(secret)))));
    assertOk(await verify(req(headers(sign(secret2)))));
  });

  test('missing and malformed headers', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    const full = headers(sign(secret));
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const partial = { ...full };
      delete partial[name];
      assertCode(await verify(req(partial)), 'WC_AUTH_MISSING');
    }
    assertCode(await verify(req({ ...full, 'webhook-signature': 'v2,abc' })), 'WC_AUTH_MALFORMED');
    assertCode(await verify(req({ ...full, 'webhook-timestamp': 'now' })), 'WC_AUTH_MALFORMED');
  });
});

describe('provider: svix (signed with the svix package, svix-* headers)', () => {
  test('valid with svix-* headers, tampered rejected, rotated secret accepted', async () => {
    const verify = await verifierFor(providerMethod, { name: 'svix', secret: [secret2, secret] }, context);
    const signature = new Svix(secret).sign('msg_9', new Date(now * 1000), body);
    assertOk(await verify(req(headers(signature, 'msg_9', now, 'svix'))));
    assertCode(await verify(req(headers(signature, 'msg_9', now, 'svix'), `${body} `)), 'WC_AUTH_MISMATCH');
  });
});

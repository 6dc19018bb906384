import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import { makeRequest, verifierFor } from '../testing.js';
import { providerMethod } from './index.js';
import { assertCode, assertOk } from './test-support.js';

const token = '12345678901234567890123456789012';
const form = {
  CallSid: 'CA123',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};
const formBody = new URLSearchParams(form).toString();
const formHeaders = (signature: string) => ({
  'x-twilio-signature': signature,
  'content-type': 'application/x-www-form-urlencoded',
});

describe('provider: twilio (signed with twilio.getExpectedTwilioSignature)', () => {
  const config = { name: 'twilio', secret: token };

  test('form-encoded request: valid; tampered parameter and wrong token rejected', async () => {
    const verify = await verifierFor(providerMethod, config);
    const url = 'https://relay.example.com/webhook/calls?tenant=a';
    const signature = twilio.getExpectedTwilioSignature(token, url, form);
    assert.ok(twilio.validateRequest(token, signature, url, form)); // the signer agrees with itself
    const request = (sig: string, body = formBody) =>
      makeRequest({
        url: '/webhook/calls?tenant=a',
        protocol: 'https',
        host: 'relay.example.com',
        body,
        headers: formHeaders(sig),
      });
    assertOk(await verify(request(signature)));
    assertCode(await verify(request(signature, formBody.replace('1234', '9999'))), 'WC_AUTH_MISMATCH');
    assertCode(
      await verify(request(twilio.getExpectedTwilioSignature('f'.repeat(32), url, form))),
      'WC_AUTH_MISMATCH',
      [token],
    );
    assertCode(
      await verify(
        makeRequest({ body: formBody, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      ),
      'WC_AUTH_MISSING',
    );
  });

  test('the URL is bound: another host or path fails; base_url overrides the request host; ports tolerated', async () => {
    const url = 'https://public.example.com/webhook/calls';
    const signature = twilio.getExpectedTwilioSignature(token, url, form);
    const behindProxy = makeRequest({
      url: '/webhook/calls',
      protocol: 'http',
      host: 'internal:8000',
      body: formBody,
      headers: formHeaders(signature),
    });
    assertCode(await (await verifierFor(providerMethod, config))(behindProxy), 'WC_AUTH_MISMATCH');
    const withBase = await verifierFor(providerMethod, { ...config, base_url: 'https://public.example.com' });
    assertOk(await withBase(behindProxy));
    const otherPath = makeRequest({
      url: '/webhook/other',
      protocol: 'https',
      host: 'public.example.com',
      body: formBody,
      headers: formHeaders(signature),
    });
    assertCode(await withBase(otherPath), 'WC_AUTH_MISMATCH');
    const badHost = makeRequest({
      url: '/webhook/calls',
      host: 'bad host/x',
      body: formBody,
      headers: formHeaders(signature),
    });
    assertCode(await (await verifierFor(providerMethod, config))(badHost), 'WC_AUTH_MISMATCH');
    // Twilio signed the URL with an explicit :443, the request arrives without it (and vice versa).
    const withPort = twilio.getExpectedTwilioSignature(
      token,
      'https://public.example.com:443/webhook/calls',
      form,
    );
    const plain = makeRequest({
      url: '/webhook/calls',
      protocol: 'https',
      host: 'public.example.com',
      body: formBody,
      headers: formHeaders(withPort),
    });
    assertOk(await (await verifierFor(providerMethod, config))(plain));
  });

  test('JSON body covered by bodySHA256; a JSON body without it is refused', async () => {
    const verify = await verifierFor(providerMethod, config);
    const json = JSON.stringify({ event: 'message.delivered' });
    const hash = twilio.getExpectedBodyHash(json);
    const url = `https://relay.example.com/webhook/sms?bodySHA256=${hash}`;
    const signature = twilio.getExpectedTwilioSignature(token, url, {});
    assert.ok(twilio.validateRequestWithBody(token, signature, url, json));
    const request = (body: string, target = `/webhook/sms?bodySHA256=${hash}`) =>
      makeRequest({
        url: target,
        protocol: 'https',
        host: 'relay.example.com',
        body,
        headers: { 'x-twilio-signature': signature, 'content-type': 'application/json' },
      });
    assertOk(await verify(request(json)));
    assertCode(await verify(request(json.replace('delivered', 'failed'))), 'WC_AUTH_MISMATCH');
    assertCode(await verify(request(json, '/webhook/sms')), 'WC_AUTH_MALFORMED');
  });

  test('HMAC_SHA256 selected by X-Twilio-Webhooks-Signature-Settings', async () => {
    const verify = await verifierFor(providerMethod, config);
    const url = 'https://relay.example.com/webhook/calls';
    const signature = twilio.getExpectedTwilioSignature(token, url, form, 'HMAC_SHA256');
    const request = makeRequest({
      url: '/webhook/calls',
      protocol: 'https',
      host: 'relay.example.com',
      body: formBody,
      headers: {
        ...formHeaders(signature),
        'x-twilio-webhooks-signature-settings': 'key=sk_1,algorithm=HMAC_SHA256',
      },
    });
    assertOk(await verify(request));
  });

  test('repeated form parameters sort and de-duplicate like Twilio; a rotated token is accepted', async () => {
    const verify = await verifierFor(providerMethod, { ...config, secret: ['a'.repeat(32), token] });
    const params = { MediaUrl: ['b', 'a', 'b'], Body: 'hi' };
    const body = 'Body=hi&MediaUrl=b&MediaUrl=a&MediaUrl=b';
    const url = 'https://relay.example.com/webhook/mms';
    const signature = twilio.getExpectedTwilioSignature(token, url, params);
    assertOk(
      await verify(
        makeRequest({
          url: '/webhook/mms',
          protocol: 'https',
          host: 'relay.example.com',
          body,
          headers: formHeaders(signature),
        }),
      ),
    );
  });
});

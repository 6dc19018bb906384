import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { makeContext, makeRequest, rejects, verifierFor } from '../testing.js';
import type { AuthResult } from '../types.js';
import { oauth1Method } from './index.js';

const codeOf = (result: AuthResult) => (result.ok ? 'ok' : result.code);

/** The independent signer: the oauth-1.0a package. */
function client(options: {
  secret: string;
  method?: 'HMAC-SHA1' | 'HMAC-SHA256' | 'PLAINTEXT';
  timestamp?: number;
  nonce?: string;
}) {
  const method = options.method ?? 'HMAC-SHA1';
  const oauth = new OAuth({
    consumer: { key: 'consumer-1', secret: options.secret },
    signature_method: method,
    hash_function: (base, key) =>
      method === 'PLAINTEXT'
        ? key
        : createHmac(method === 'HMAC-SHA256' ? 'sha256' : 'sha1', key)
            .update(base)
            .digest('base64'),
  });
  if (options.timestamp !== undefined) oauth.getTimeStamp = () => options.timestamp as number;
  if (options.nonce !== undefined) oauth.getNonce = () => options.nonce as string;
  return (url: string, data: Record<string, string> = {}, token?: OAuth.Token) =>
    oauth.toHeader(oauth.authorize({ url, method: 'POST', data }, token)).Authorization;
}

const form = { event: 'order.paid', 'amount (EUR)': '12.50', note: "it's a test!" };
const formBody = new URLSearchParams(form).toString().replace(/\+/g, '%20');

function request(
  authorization: string | undefined,
  options: { url?: string; host?: string; protocol?: 'http' | 'https'; body?: string } = {},
) {
  return makeRequest({
    url: options.url ?? '/webhook/shop?tenant=a%20b&x=1',
    protocol: options.protocol ?? 'https',
    host: options.host ?? 'relay.example.com',
    body: options.body ?? formBody,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization === undefined ? {} : { authorization }),
    },
  });
}
const publicUrl = 'https://relay.example.com/webhook/shop?tenant=a%20b&x=1';

describe('oauth1 (signed with the oauth-1.0a package)', () => {
  const config = {
    consumer_key: 'consumer-1',
    consumer_secret: 'consumer-secret',
    token_secret: 'token-secret',
  };
  const token = { key: 'token-1', secret: 'token-secret' };

  test('HMAC-SHA1 over scheme, host, path, query, oauth and form parameters', async () => {
    const verify = await verifierFor(oauth1Method, config);
    const sign = client({ secret: 'consumer-secret' });
    assert.equal(codeOf(await verify(request(sign(publicUrl, form, token)))), 'ok');
  });

  test('HMAC-SHA256 and a non-default port', async () => {
    const verify = await verifierFor(oauth1Method, { ...config, signature_method: 'hmac-sha256' });
    const sign = client({ secret: 'consumer-secret', method: 'HMAC-SHA256' });
    const url = 'https://relay.example.com:8443/webhook/shop?tenant=a%20b&x=1';
    assert.equal(
      codeOf(await verify(request(sign(url, form, token), { host: 'relay.example.com:8443' }))),
      'ok',
    );
    // Signed for port 8443 but received on another port: the base string differs.
    assert.equal(
      codeOf(await verify(request(sign(url, form, token), { host: 'relay.example.com:9443' }))),
      'WC_AUTH_MISMATCH',
    );
  });

  test('tampered body, tampered query, other host, wrong secret', async () => {
    const verify = await verifierFor(oauth1Method, config);
    const sign = client({ secret: 'consumer-secret' });
    const header = sign(publicUrl, form, token);
    assert.equal(
      codeOf(await verify(request(header, { body: formBody.replace('12.50', '99.00') }))),
      'WC_AUTH_MISMATCH',
    );
    assert.equal(
      codeOf(await verify(request(header, { url: '/webhook/shop?tenant=a%20b&x=2' }))),
      'WC_AUTH_MISMATCH',
    );
    assert.equal(codeOf(await verify(request(header, { host: 'evil.example.com' }))), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(request(header, { protocol: 'http' }))), 'WC_AUTH_MISMATCH');
    assert.equal(codeOf(await verify(request(header, { host: 'bad host/x' }))), 'WC_AUTH_MISMATCH');
    const wrong = await verify(request(client({ secret: 'other' })(publicUrl, form, token)));
    assert.equal(codeOf(wrong), 'WC_AUTH_MISMATCH');
    assert.ok(!wrong.ok && !wrong.detail.includes('consumer-secret'));
  });

  test('a replayed nonce is refused; an old timestamp is expired', async () => {
    const verify = await verifierFor(oauth1Method, config);
    const header = client({ secret: 'consumer-secret', nonce: 'fixed-nonce-1' })(publicUrl, form, token);
    assert.equal(codeOf(await verify(request(header))), 'ok');
    assert.equal(codeOf(await verify(request(header))), 'WC_AUTH_REPLAYED');
    const old = client({ secret: 'consumer-secret', timestamp: Math.floor(Date.now() / 1000) - 301 })(
      publicUrl,
      form,
      token,
    );
    assert.equal(codeOf(await verify(request(old))), 'WC_AUTH_EXPIRED');
  });

  test('nonce stores are per webhook, not process-global', async () => {
    const a = await verifierFor(oauth1Method, config, makeContext({ webhookId: 'a' }));
    const b = await verifierFor(oauth1Method, config, makeContext({ webhookId: 'b' }));
    const header = client({ secret: 'consumer-secret', nonce: 'shared-nonce' })(publicUrl, form, token);
    assert.equal(codeOf(await a(request(header))), 'ok');
    assert.equal(codeOf(await b(request(header))), 'ok');
  });

  test('a full nonce store never re-opens a replay', async () => {
    let now = Date.now();
    const verify = await verifierFor(
      oauth1Method,
      { ...config, max_nonces: 10 },
      makeContext({ now: () => now }),
    );
    const ts = Math.floor(now / 1000);
    const first = client({ secret: 'consumer-secret', nonce: 'n-first', timestamp: ts })(
      publicUrl,
      form,
      token,
    );
    assert.equal(codeOf(await verify(request(first))), 'ok');
    now += 20_000;
    for (let i = 0; i < 12; i++) {
      // One request per second: an eviction makes everything up to the evicted timestamp stale.
      const header = client({ secret: 'consumer-secret', nonce: `n-${i}`, timestamp: ts + 2 + i })(
        publicUrl,
        form,
        token,
      );
      assert.equal(codeOf(await verify(request(header))), 'ok');
    }
    assert.notEqual(codeOf(await verify(request(first))), 'ok');
  });

  test('missing timestamp or nonce is malformed (the reference accepted a missing timestamp)', async () => {
    const verify = await verifierFor(oauth1Method, config);
    const header = client({ secret: 'consumer-secret' })(publicUrl, form, token);
    assert.equal(
      codeOf(await verify(request(header.replace(/oauth_timestamp="\d+", /, '')))),
      'WC_AUTH_MALFORMED',
    );
    assert.equal(
      codeOf(await verify(request(header.replace(/oauth_nonce="[^"]*", /, '')))),
      'WC_AUTH_MALFORMED',
    );
    assert.equal(codeOf(await verify(request(undefined))), 'WC_AUTH_MISSING');
    assert.equal(codeOf(await verify(request('Bearer abc'))), 'WC_AUTH_MALFORMED');
  });

  test('signature method and consumer key must match', async () => {
    const verify = await verifierFor(oauth1Method, config);
    const sha256 = client({ secret: 'consumer-secret', method: 'HMAC-SHA256' })(publicUrl, form, token);
    assert.equal(codeOf(await verify(request(sha256))), 'WC_AUTH_MISMATCH');
    const header = client({ secret: 'consumer-secret' })(publicUrl, form, token).replace(
      'consumer-1',
      'consumer-2',
    );
    assert.equal(codeOf(await verify(request(header))), 'WC_AUTH_MISMATCH');
  });

  test('PLAINTEXT over HTTPS only', async () => {
    const verify = await verifierFor(oauth1Method, { ...config, signature_method: 'PLAINTEXT' });
    const header = client({ secret: 'consumer-secret', method: 'PLAINTEXT' })(publicUrl, form, token);
    assert.equal(codeOf(await verify(request(header))), 'ok');
    const overHttp = client({ secret: 'consumer-secret', method: 'PLAINTEXT' })(publicUrl, form, token);
    assert.equal(codeOf(await verify(request(overHttp, { protocol: 'http' }))), 'WC_AUTH_MALFORMED');
  });

  test('a rotated (second) consumer secret is accepted; base_url for a proxy that rewrites the host', async () => {
    const verify = await verifierFor(oauth1Method, {
      ...config,
      consumer_secret: ['new-secret', 'consumer-secret'],
      base_url: 'https://relay.example.com',
    });
    const header = client({ secret: 'consumer-secret' })(publicUrl, form, token);
    assert.equal(codeOf(await verify(request(header, { protocol: 'http', host: 'internal:8000' }))), 'ok');
  });

  test('fail-open and unsupported configs are refused', () => {
    for (const raw of [
      {},
      { consumer_key: 'c' },
      { consumer_secret: 's' },
      { consumer_key: 'c', consumer_secret: '' },
      { consumer_key: 'c', consumer_secret: 's', signature_method: 'RSA-SHA1' },
      { consumer_key: 'c', consumer_secret: 's', verify_timestamp: false },
      { consumer_key: 'c', consumer_secret: 's', timestamp_window: 0 },
    ]) {
      assert.ok(rejects(oauth1Method, raw), JSON.stringify(raw));
    }
    assert.ok(
      !rejects(oauth1Method, {
        consumer_key: 'c',
        consumer_secret: 's',
        verify_timestamp: false,
        verify_nonce: false,
      }),
    );
  });
});

/**
 * Property tests for the authentication header parsers and verifiers: whatever a client sends in the
 * credential headers, the host, the query or the body, a verifier never throws; it answers success or a
 * coded failure (`WC_AUTH_*` from the error catalogue, with a non-empty public detail). Garbage never
 * passes. Methods that call out to the network (`recaptcha`, `oauth2` introspection) are not included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createAuthRegistry } from '../../src/auth/registry.js';
import { parseDigestParams } from '../../src/auth/digest-auth/index.js';
import { parseOAuthHeader } from '../../src/auth/oauth1/index.js';
import { decodeBase64, decodeHex, checkTimestamp } from '../../src/auth/signing.js';
import { makeContext } from '../../src/auth/testing.js';
import type { AuthRequest, AuthVerifier } from '../../src/auth/types.js';
import { ERROR_CATALOGUE } from '../../src/shared/errors.js';

const RUNS = 200;

/** Configurations covering every header format a verifier parses. */
const CONFIGS: readonly [type: string, config: unknown][] = [
  ['hmac', { secret: 'hmac-secret-value' }],
  ['hmac', { secret: ['a-secret', 'b-secret'], encoding: 'base64', prefix: 'sha256=', algorithm: 'SHA512' }],
  [
    'hmac',
    { secret: 'hmac-secret-value', timestamp_header: 'X-Timestamp', signed_payload: 'v0:{timestamp}:{body}' },
  ],
  ['provider', { name: 'github', secret: 'gh-secret' }],
  ['provider', { name: 'gitlab', secret: 'gl-secret' }],
  ['provider', { name: 'stripe', secret: 'whsec_stripe' }],
  ['provider', { name: 'shopify', secret: 'shop-secret' }],
  ['provider', { name: 'slack', secret: 'slack-secret' }],
  ['provider', { name: 'standard_webhooks', secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}` }],
  ['provider', { name: 'svix', secret: `whsec_${Buffer.alloc(24, 9).toString('base64')}` }],
  ['provider', { name: 'twilio', secret: 'twilio-token' }],
  ['provider', { name: 'twilio', secret: 'twilio-token', base_url: 'https://relay.example.com/prefix' }],
  ['basic_auth', { username: 'user', password: 'pass' }],
  [
    'digest_auth',
    { username: 'user', password: 'pass', algorithm: ['SHA-256', 'MD5'], qop: ['auth', 'auth-int'] },
  ],
  ['oauth1', { consumer_key: 'ck', consumer_secret: 'cs', token_secret: 'ts' }],
  ['oauth1', { consumer_key: 'ck', consumer_secret: 'cs', signature_method: 'PLAINTEXT' }],
  ['jwt', { secret: 'j'.repeat(32) }],
  ['authorization', 'Bearer expected-token'],
  ['header_auth', { api_key: 'expected-key' }],
  ['query_auth', { api_key: 'expected-key' }],
  ['ip_whitelist', ['10.0.0.0/8', '2001:db8::/32']],
];

const HEADER_NAMES = [
  'authorization',
  'x-hmac-signature',
  'x-timestamp',
  'x-hub-signature-256',
  'x-gitlab-token',
  'stripe-signature',
  'x-shopify-hmac-sha256',
  'x-slack-signature',
  'x-slack-request-timestamp',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'svix-id',
  'svix-timestamp',
  'svix-signature',
  'x-twilio-signature',
  'x-twilio-webhooks-signature-settings',
  'x-api-key',
  'content-type',
];

const nowSeconds = () => Math.floor(Date.now() / 1000);
const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 140 });
const b64 = fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789+/='), maxLength: 100 });
const token = fc.string({ unit: fc.constantFrom(...'abcxyz0123_-.~+/=%"\\ ,;:'), maxLength: 40 });
const timestamp = fc.oneof(
  fc.integer({ min: -400, max: 400 }).map((offset) => String(nowSeconds() + offset)),
  fc.string({ unit: fc.constantFrom(...'0123456789-+.e '), maxLength: 16 }),
);
/** Any text, including characters Node would never hand over (verifiers must still not throw). */
const anyText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

/** Values shaped like each format, with garbage mixed in. */
const headerValue = fc.oneof(
  anyText,
  hex,
  b64,
  fc.tuple(fc.constantFrom('sha256=', 'sha1=', 'sha512=', 'v0=', 'SHA256=', ''), hex).map(([p, h]) => p + h),
  fc
    .array(
      fc.oneof(
        timestamp.map((t) => `t=${t}`),
        hex.map((h) => `v1=${h}`),
        anyText,
      ),
      { maxLength: 5 },
    )
    .map((items) => items.join(',')),
  fc
    .array(
      fc.oneof(
        b64.map((b) => `v1,${b}`),
        b64.map((b) => `v1a,${b}`),
        anyText,
      ),
      { maxLength: 4 },
    )
    .map((items) => items.join(' ')),
  fc
    .array(fc.tuple(token, fc.oneof(token, anyText), fc.boolean()), { maxLength: 8 })
    .chain((pairs) =>
      fc
        .constantFrom('Digest ', 'OAuth ', 'digest ', '')
        .map(
          (scheme) =>
            scheme + pairs.map(([k, v, quoted]) => (quoted ? `${k}="${v}"` : `${k}=${v}`)).join(', '),
        ),
    ),
  fc.tuple(fc.constantFrom('Basic ', 'Bearer ', 'basic ', ''), fc.oneof(b64, anyText)).map(([s, v]) => s + v),
  fc
    .array(fc.oneof(b64, anyText), { minLength: 1, maxLength: 4 })
    .map((parts) => `Bearer ${parts.join('.')}`),
  timestamp,
);

const requestArb: fc.Arbitrary<AuthRequest> = fc
  .record({
    method: fc.constantFrom('POST', 'PUT', 'GET', 'post', ''),
    path: fc.oneof(
      fc.constant('/webhook/test'),
      anyText.map((text) => `/webhook/${text}`),
    ),
    query: fc.oneof(
      fc.constant(''),
      fc
        .array(fc.tuple(token, fc.oneof(token, anyText)), { maxLength: 4 })
        .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
      anyText.map((text) => `?${text}`),
    ),
    protocol: fc.constantFrom('http' as const, 'https' as const),
    host: fc.oneof(
      fc.constant('localhost:8000'),
      anyText,
      fc.constant(''),
      fc.constant('[::1'),
      fc.constant('a b'),
    ),
    headers: fc.dictionary(fc.constantFrom(...HEADER_NAMES), headerValue, { maxKeys: 8 }),
    body: fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      anyText.map((text) => Buffer.from(text)),
    ),
    clientIp: fc.oneof(fc.constant(undefined), fc.ipV4(), fc.ipV6(), anyText),
  })
  .map(({ method, path, query, protocol, host, headers, body, clientIp }) => {
    const url = path + query;
    const params: Record<string, string | string[]> = {};
    try {
      for (const [key, value] of new URLSearchParams(query.slice(1))) {
        const existing = params[key];
        params[key] =
          existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
      }
    } catch {
      // a query the receiver would not parse either: no parameters
    }
    return {
      method,
      url,
      path,
      protocol,
      host,
      headers,
      rawBody: body,
      query: params,
      clientIp,
      peerIp: clientIp,
    };
  });

async function verifiers(): Promise<[string, AuthVerifier][]> {
  const registry = createAuthRegistry();
  const built: [string, AuthVerifier][] = [];
  for (const [type, raw] of CONFIGS) {
    const method = registry.get(type);
    assert.ok(method !== undefined, `auth method ${type} is not registered`);
    const config = method.schema.parse(raw);
    built.push([
      `${type} ${JSON.stringify(raw).slice(0, 60)}`,
      await method.create(config as never, makeContext()),
    ]);
  }
  return built;
}

test('property: every verifier answers any request with success or a catalogued WC_AUTH_* failure, never a throw', async () => {
  const all = await verifiers();
  for (const [name, verify] of all) {
    await fc.assert(
      fc.asyncProperty(requestArb, async (request) => {
        let result;
        try {
          result = await verify(request);
        } catch (error) {
          assert.fail(`${name} threw ${String(error)}`);
        }
        if (result.ok) return;
        assert.ok(result.code.startsWith('WC_AUTH_'), `${name}: code ${result.code}`);
        assert.ok(result.code in ERROR_CATALOGUE, `${name}: ${result.code} is not catalogued`);
        assert.equal(ERROR_CATALOGUE[result.code].status, 401);
        assert.equal(typeof result.detail, 'string');
        assert.ok(result.detail.length > 0, `${name}: empty detail`);
      }),
      { numRuns: RUNS },
    );
  }
});

test('property: garbage credentials never pass a signature or secret check', async () => {
  // ip_whitelist passes by address, not by credential; every other method must refuse random input.
  const all = (await verifiers()).filter(([name]) => !name.startsWith('ip_whitelist'));
  for (const [name, verify] of all) {
    await fc.assert(
      fc.asyncProperty(requestArb, async (request) => {
        const result = await verify(request);
        assert.equal(result.ok, false, `${name} accepted ${JSON.stringify(request.headers)}`);
      }),
      { numRuns: RUNS / 2 },
    );
  }
});

test('property: the header parsers never throw and agree on what they accept', () => {
  fc.assert(
    fc.property(fc.oneof(anyText, headerValue), (text) => {
      const digest = parseDigestParams(text);
      if (digest !== undefined) for (const [key] of digest) assert.equal(key, key.toLowerCase());
      const oauth = parseOAuthHeader(`OAuth ${text}`);
      if (oauth !== undefined) assert.ok(oauth instanceof Map);
      const hexBytes = decodeHex(text);
      if (hexBytes !== undefined) assert.equal(hexBytes.toString('hex'), text.toLowerCase());
      const b64Bytes = decodeBase64(text);
      if (b64Bytes !== undefined) {
        // Every base64 character carries 6 bits; padding and the unused trailing bits carry none.
        assert.equal(b64Bytes.length, Math.floor((text.replace(/=+$/, '').length * 6) / 8));
      }
      const check = checkTimestamp(text, Date.now(), 300);
      if (check.ok) assert.ok(/^\d{1,12}$/.test(text));
    }),
    { numRuns: 500 },
  );
});

test('property: quoted digest parameters round-trip through the parser', () => {
  const name = fc.string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-_'),
    minLength: 1,
    maxLength: 10,
  });
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(name, fc.string({ maxLength: 30 })), { selector: ([k]) => k, maxLength: 6 }),
      (pairs) => {
        const header = pairs.map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`).join(', ');
        const parsed = parseDigestParams(header);
        assert.ok(parsed !== undefined, header);
        assert.deepEqual([...parsed.entries()], pairs);
      },
    ),
    { numRuns: 300 },
  );
});

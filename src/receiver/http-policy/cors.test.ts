import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORS_ALLOWED_HEADERS, corsHeaders, parseCorsOrigins } from './cors.js';

test('valid origins are accepted and normalised', () => {
  const { accepted, rejected } = parseCorsOrigins(
    ' https://app.example.com , http://localhost:3000,https://EXAMPLE.org:443,https://example.net/ ,,http://[::1]:8080, https://bücher.example',
  );
  assert.deepEqual(rejected, []);
  assert.deepEqual(
    [...accepted],
    [
      'https://app.example.com',
      'http://localhost:3000',
      'https://example.org',
      'https://example.net',
      'http://[::1]:8080',
      'https://xn--bcher-kva.example',
    ],
  );
  assert.deepEqual(
    [...parseCorsOrigins(['https://a.example', 'https://a.example']).accepted],
    ['https://a.example'],
  );
  assert.equal(parseCorsOrigins([]).accepted.size, 0);
  assert.equal(parseCorsOrigins('').accepted.size, 0);
});

test('unsafe or malformed origins are rejected with a reason', () => {
  const cases: [string, RegExp][] = [
    ['*', /wildcard/],
    ['null', /"null"/],
    ['NULL', /"null"/],
    ['ftp://example.com', /http:\/\/ or https:\/\//],
    ['example.com', /http:\/\/ or https:\/\//],
    ['//example.com', /http:\/\/ or https:\/\//],
    ['https://', /empty host/],
    ['https://:8080', /empty host/],
    ['https://example.com/path', /path/],
    ['https://example.com//', /path/],
    ['https://example.com?x=1', /query/],
    ['https://example.com/?x=1', /query/],
    ['https://example.com#frag', /fragment/],
    ['https://user:pass@example.com', /userinfo/],
    ['https://user@example.com', /userinfo/],
    ['https://exa mple.com', /whitespace or control/],
    ['https://example.com\r\nX-Evil: 1', /whitespace or control/],
    ['https://exa\tmple.com', /whitespace or control/],
    ['https://example.com:99999', /not a valid origin/],
  ];
  const { accepted, rejected } = parseCorsOrigins(cases.map(([origin]) => origin));
  assert.equal(accepted.size, 0, [...accepted].join(' '));
  assert.equal(rejected.length, cases.length);
  cases.forEach(([origin, reason], i) => {
    assert.equal(rejected[i]?.origin, origin.trim());
    assert.match(rejected[i]?.reason ?? '', reason, origin);
  });
});

test('an accepted origin gets ACAO, credentials and Vary on simple requests', () => {
  const { accepted } = parseCorsOrigins('https://app.example.com');
  assert.deepEqual(
    { ...corsHeaders('https://app.example.com', 'POST', accepted) },
    {
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    },
  );
  assert.equal(
    corsHeaders('https://app.example.com', 'GET', accepted)['access-control-expose-headers'],
    undefined,
  );
});

test('preflight (OPTIONS) also gets methods, the §1.7 headers and max-age 600', () => {
  const { accepted } = parseCorsOrigins(['https://app.example.com']);
  assert.deepEqual(
    { ...corsHeaders('https://app.example.com', 'OPTIONS', accepted) },
    {
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
      'access-control-allow-methods': 'POST, GET, OPTIONS',
      'access-control-allow-headers': CORS_ALLOWED_HEADERS,
      'access-control-max-age': '600',
    },
  );
  assert.equal(
    CORS_ALLOWED_HEADERS,
    'Content-Type, Authorization, X-Requested-With, X-HMAC-Signature, X-HMAC-Signature-256, X-Hub-Signature, ' +
      'X-Hub-Signature-256, X-API-Key, X-Auth-Token, X-Recaptcha-Token, X-Forwarded-For, X-Real-IP',
  );
});

test('unknown origins get no allow headers; CORS disabled gets nothing', () => {
  const { accepted } = parseCorsOrigins('https://app.example.com');
  for (const origin of [
    'https://evil.example',
    'https://app.example.com.evil.example',
    'null',
    'http://app.example.com',
    'https://app.example.com/',
  ]) {
    assert.deepEqual({ ...corsHeaders(origin, 'OPTIONS', accepted) }, { vary: 'Origin' }, origin);
  }
  assert.deepEqual({ ...corsHeaders(undefined, 'POST', accepted) }, { vary: 'Origin' });
  assert.deepEqual({ ...corsHeaders('https://app.example.com', 'POST', parseCorsOrigins('*').accepted) }, {});
  // "*" configured never turns into a wildcard response.
  assert.deepEqual(
    { ...corsHeaders('https://any.example', 'POST', parseCorsOrigins('*, null').accepted) },
    {},
  );
});

test('a plain array of origins works too, and header maps are shared frozen objects', () => {
  const list = ['https://a.example'];
  const first = corsHeaders('https://a.example', 'POST', list);
  assert.equal(first['access-control-allow-origin'], 'https://a.example');
  assert.equal(corsHeaders('https://a.example', 'POST', list), first);
  assert.ok(Object.isFrozen(first));
});

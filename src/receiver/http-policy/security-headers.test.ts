import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookConnectError } from '../../shared/errors.js';
import {
  clampHstsMaxAge,
  compileSecurityHeaders,
  cspPolicyProblem,
  DEFAULT_CSP,
  DOCS_CSP,
  isHttpsRequest,
  securityHeaders,
} from './security-headers.js';

const PERMISSIONS =
  'geolocation=(), microphone=(), camera=(), payment=(), usb=(), magnetometer=(), gyroscope=(), accelerometer=()';

test('plain HTTP gets the fixed headers and the restrictive CSP, without HSTS', () => {
  assert.deepEqual(
    { ...securityHeaders({ isHttps: false }) },
    {
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'x-xss-protection': '1; mode=block',
      'referrer-policy': 'strict-origin-when-cross-origin',
      'permissions-policy': PERMISSIONS,
      'content-security-policy': DEFAULT_CSP,
    },
  );
  assert.match(DEFAULT_CSP, /^default-src 'self'/);
  assert.ok(!DEFAULT_CSP.includes('cdn.jsdelivr.net'));
});

test('HTTPS (or FORCE_HTTPS) adds HSTS with the defaults: one year, includeSubDomains, no preload', () => {
  assert.equal(
    securityHeaders({ isHttps: true })['strict-transport-security'],
    'max-age=31536000; includeSubDomains',
  );
  assert.equal(
    securityHeaders({ isHttps: false, forceHttps: true })['strict-transport-security'],
    'max-age=31536000; includeSubDomains',
  );
  assert.equal(
    securityHeaders({ isHttps: true, hstsIncludeSubdomains: false, hstsPreload: true, hstsMaxAge: 600 })[
      'strict-transport-security'
    ],
    'max-age=600; preload',
  );
  assert.equal(
    securityHeaders({ isHttps: true, hstsPreload: true })['strict-transport-security'],
    'max-age=31536000; includeSubDomains; preload',
  );
});

test('HSTS max-age clamp rules', () => {
  assert.equal(clampHstsMaxAge(undefined), 31_536_000);
  assert.equal(clampHstsMaxAge(-1), 31_536_000);
  assert.equal(clampHstsMaxAge(Number.NaN), 31_536_000);
  assert.equal(clampHstsMaxAge(Infinity), 31_536_000);
  assert.equal(clampHstsMaxAge(0), 0);
  assert.equal(clampHstsMaxAge(86_400.9), 86_400);
  assert.equal(clampHstsMaxAge(63_072_000), 63_072_000);
  assert.equal(clampHstsMaxAge(999_999_999), 63_072_000);
  assert.equal(
    securityHeaders({ isHttps: true, hstsMaxAge: 999_999_999 })['strict-transport-security'],
    'max-age=63072000; includeSubDomains',
  );
  assert.equal(
    securityHeaders({ isHttps: true, hstsMaxAge: -5 })['strict-transport-security'],
    'max-age=31536000; includeSubDomains',
  );
});

test('docs paths get the CDN-allowing CSP; CSP_POLICY overrides both', () => {
  for (const path of ['/docs', '/docs/oauth2-redirect', '/redoc', '/openapi.json', '/openapi.json?x=1']) {
    assert.equal(securityHeaders({ isHttps: false, path })['content-security-policy'], DOCS_CSP, path);
  }
  assert.match(DOCS_CSP, /cdn\.jsdelivr\.net/);
  for (const path of ['/', '/webhook/docs', '/docsx', '/stats']) {
    assert.equal(securityHeaders({ isHttps: false, path })['content-security-policy'], DEFAULT_CSP, path);
  }
  const custom = "default-src 'none'";
  assert.equal(securityHeaders({ isHttps: false, cspPolicy: custom })['content-security-policy'], custom);
  assert.equal(
    securityHeaders({ isHttps: false, cspPolicy: custom, path: '/docs' })['content-security-policy'],
    custom,
  );
  assert.equal(securityHeaders({ isHttps: false, cspPolicy: '  ' })['content-security-policy'], DEFAULT_CSP);
});

test('a CSP_POLICY with header-injection characters is a config error', () => {
  assert.equal(cspPolicyProblem("default-src 'self'"), undefined);
  assert.equal(
    cspPolicyProblem("default-src 'self'\r\nSet-Cookie: a=b"),
    'CSP_POLICY must not contain CR, LF or NUL',
  );
  assert.throws(
    () => compileSecurityHeaders({ cspPolicy: "default-src 'self'\nX: y" }),
    (error: unknown) => error instanceof WebhookConnectError && error.code === 'WC_CONFIG_INVALID',
  );
});

test('maps are frozen and reused: same settings → same object, changed settings → recompiled', () => {
  const a = securityHeaders({ isHttps: true, hstsMaxAge: 100 });
  const b = securityHeaders({ isHttps: true, hstsMaxAge: 100 });
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a));
  const c = securityHeaders({ isHttps: true, hstsMaxAge: 200 });
  assert.notEqual(a, c);
  assert.equal(c['strict-transport-security'], 'max-age=200; includeSubDomains');
  const compiled = compileSecurityHeaders({ forceHttps: false });
  assert.equal(compiled({ isHttps: false }), compiled({ isHttps: false }));
  assert.notEqual(compiled({ isHttps: false }), compiled({ isHttps: true }));
});

test('isHttpsRequest: TLS socket or X-Forwarded-Proto https (first hop)', () => {
  assert.equal(isHttpsRequest(true, undefined), true);
  assert.equal(isHttpsRequest(false, undefined), false);
  assert.equal(isHttpsRequest(false, 'https'), true);
  assert.equal(isHttpsRequest(false, 'HTTPS'), true);
  assert.equal(isHttpsRequest(false, 'https, http'), true);
  assert.equal(isHttpsRequest(false, 'http, https'), false);
  assert.equal(isHttpsRequest(false, 'http'), false);
});

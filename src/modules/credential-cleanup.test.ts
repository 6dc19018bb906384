import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CREDENTIAL_MASK, createCredentialCleaner, createCredentialMatcher } from './credential-cleanup.js';
import { credentialCleanupSchema } from './schemas.js';

const isCredential = createCredentialMatcher();

test('credential names are recognised', () => {
  for (const name of [
    'password',
    'PASSWORD',
    ' pwd ',
    'db_password',
    'userPassword',
    'client_secret',
    'clientSecret',
    'access_token',
    'accessToken',
    'refresh-token',
    'x-api-key',
    'X-Goog-Api-Key',
    'x-shopify-access-token',
    'x-webhook-secret',
    'api_key',
    'apiKey',
    'stripe_api_key',
    'private_key',
    'aws_secret_access_key',
    'secret_key',
    'access_key',
    'signing_key',
    'apikey',
    'authorization',
    'auth',
    'basic_auth',
    'credentials',
    'session_id',
    'csrf',
    'cookie',
    'set-cookie',
    'bearer',
    'passphrase',
  ]) {
    assert.ok(isCredential(name), name);
  }
});

test('look-alike names are not credentials', () => {
  for (const name of [
    'author',
    'authors',
    'keyword',
    'keywords',
    'monkey',
    'key',
    'primary_key',
    'idempotency_key',
    'sort_key',
    'partition_key',
    'tokens_used',
    'max_tokens',
    'total_tokens',
    'tokenizer',
    'secretary',
    'passport',
    'authenticity',
    'oauth_provider',
    'x-request-id',
    'content-type',
    'aws_access_key_id',
    'session',
  ]) {
    assert.ok(!isCredential(name), name);
  }
});

test('mask mode masks primitives, recurses into credential objects, never mutates input', () => {
  const input = {
    user: 'bob',
    password: 'p',
    credentials: { username: 'u', token: 't' },
    list: [{ api_key: 'k', author: 'a' }],
    primary_key: 7,
    tokens_used: 12,
  };
  const snapshot = structuredClone(input);
  const cleaner = createCredentialCleaner(credentialCleanupSchema.parse({}));
  assert.deepEqual(cleaner.cleanPayload(input), {
    user: 'bob',
    password: CREDENTIAL_MASK,
    credentials: { username: 'u', token: CREDENTIAL_MASK },
    list: [{ api_key: CREDENTIAL_MASK, author: 'a' }],
    primary_key: 7,
    tokens_used: 12,
  });
  assert.deepEqual(input, snapshot);
});

test('remove mode drops keys; custom fields are exact and case-insensitive', () => {
  const cleaner = createCredentialCleaner(
    credentialCleanupSchema.parse({ mode: 'remove', fields: ['Customer_PIN'] }),
  );
  assert.deepEqual(cleaner.cleanPayload({ customer_pin: '1234', pin: 'x', secret: 's', ok: 1 }), {
    pin: 'x',
    ok: 1,
  });
  assert.deepEqual(
    cleaner.cleanHeaders({ authorization: 'Bearer x', 'x-api-key': 'k', 'content-type': 'a/b' }),
    {
      'content-type': 'a/b',
    },
  );
});

test('headers are masked flat; disabled cleanup returns data unchanged', () => {
  const masked = createCredentialCleaner(credentialCleanupSchema.parse({})).cleanHeaders({
    authorization: 'Bearer x',
    'x-request-id': 'r',
  });
  assert.deepEqual(masked, { authorization: CREDENTIAL_MASK, 'x-request-id': 'r' });
  const off = createCredentialCleaner(credentialCleanupSchema.parse({ enabled: false }));
  const payload = { password: 'p' };
  assert.equal(off.cleanPayload(payload), payload);
});

test('non-object payloads are untouched; depth and cycles are bounded without leaking', () => {
  const cleaner = createCredentialCleaner(credentialCleanupSchema.parse({}));
  assert.equal(cleaner.cleanPayload('password'), 'password');
  assert.equal(cleaner.cleanPayload(5), 5);
  const bytes = Buffer.from('x');
  assert.equal(cleaner.cleanPayload(bytes), bytes);

  const cyclic: Record<string, unknown> = { secret: 's' };
  cyclic.self = cyclic;
  const cleaned = cleaner.cleanPayload(cyclic) as Record<string, unknown>;
  assert.equal(cleaned.secret, CREDENTIAL_MASK);
  assert.equal(cleaned.self, '[Circular reference]');

  let deep: Record<string, unknown> = { password: 'deep' };
  for (let i = 0; i < 150; i++) deep = { child: deep };
  assert.ok(!JSON.stringify(cleaner.cleanPayload(deep)).includes('"deep"'));
});

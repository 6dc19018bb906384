import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rejects } from '../testing.js';
import { PROVIDER_NAMES, providerMethod } from './index.js';

const whsec = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('provider: configuration', () => {
  test('every preset parses with a secret and applies its defaults', () => {
    for (const name of PROVIDER_NAMES) {
      const secret = name === 'standard_webhooks' || name === 'svix' ? whsec : 'secret';
      const parsed = providerMethod.schema.parse({ name, secret });
      assert.equal(parsed.name, name);
      if ('tolerance_seconds' in parsed) assert.equal(parsed.tolerance_seconds, 300);
    }
  });

  test('fail-open configs are refused', () => {
    const refused: unknown[] = [
      {},
      { secret: 'x' },
      { name: 'unknown', secret: 'x' },
      ...PROVIDER_NAMES.flatMap((name) => [
        { name },
        { name, secret: '' },
        { name, secret: ' ' },
        { name, secret: [] },
        { name, secret: ['ok', ''] },
        { name, secret: whsec, typo: 1 },
      ]),
      { name: 'stripe', secret: 'x', tolerance_seconds: 0 },
      { name: 'stripe', secret: 'x', tolerance_seconds: 'soon' },
      { name: 'standard_webhooks', secret: 'whsec_not base64!' },
      { name: 'svix', secret: 'whsec_c2hvcnQ=' },
      { name: 'twilio', secret: 'x', base_url: 'ftp://example.com' },
      'stripe',
    ];
    for (const raw of refused) assert.ok(rejects(providerMethod, raw), JSON.stringify(raw));
  });

  test('an unknown name is reported on the name field', () => {
    const result = providerMethod.schema.safeParse({ name: 'paypal', secret: 'x' });
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ['name']);
    assert.match(result.error?.issues[0]?.message ?? '', /github, gitlab, stripe/);
  });

  test('credential headers name each preset signature header (lower-case)', () => {
    const headers = (raw: unknown) => providerMethod.credentialHeaders?.(providerMethod.schema.parse(raw));
    assert.deepEqual(headers({ name: 'github', secret: 'x' }), ['x-hub-signature-256']);
    assert.deepEqual(headers({ name: 'stripe', secret: 'x' }), ['stripe-signature']);
    assert.deepEqual(headers({ name: 'svix', secret: whsec }), ['webhook-signature', 'svix-signature']);
    assert.deepEqual(headers({ name: 'twilio', secret: 'x' }), ['x-twilio-signature']);
  });
});

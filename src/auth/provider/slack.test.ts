import { describe, test } from 'node:test';
import { createHmac } from 'node:crypto';
import { makeContext, makeRequest, verifierFor } from '../testing.js';
import { providerMethod } from './index.js';
import { assertCode, assertOk } from './test-support.js';

// Slack's documented v0 scheme, computed independently with node:crypto.
const body = 'token=xyz&team_id=T1&command=%2Fdeploy&text=prod';
const now = 1_700_000_000;
const context = makeContext({ now: () => now * 1000 });
const sign = (secret: string, ts = now, payload = body) =>
  `v0=${createHmac('sha256', secret).update(`v0:${ts}:${payload}`).digest('hex')}`;
const req = (headers: Record<string, string>, payload = body) => makeRequest({ body: payload, headers });

describe('provider: slack', () => {
  const config = { name: 'slack', secret: 'slack-signing-secret' };

  test('valid, tampered, wrong secret', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    const headers = {
      'x-slack-signature': sign('slack-signing-secret'),
      'x-slack-request-timestamp': `${now}`,
    };
    assertOk(await verify(req(headers)));
    assertCode(await verify(req(headers, body.replace('prod', 'dev'))), 'WC_AUTH_MISMATCH');
    assertCode(await verify(req({ ...headers, 'x-slack-signature': sign('nope') })), 'WC_AUTH_MISMATCH', [
      'slack-signing-secret',
    ]);
  });

  test('replayed after the tolerance window → expired', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    const ts = now - 301;
    const headers = {
      'x-slack-signature': sign('slack-signing-secret', ts),
      'x-slack-request-timestamp': `${ts}`,
    };
    assertCode(await verify(req(headers)), 'WC_AUTH_EXPIRED');
  });

  test('missing and malformed headers', async () => {
    const verify = await verifierFor(providerMethod, config, context);
    assertCode(await verify(req({ 'x-slack-request-timestamp': `${now}` })), 'WC_AUTH_MISSING');
    assertCode(await verify(req({ 'x-slack-signature': sign('slack-signing-secret') })), 'WC_AUTH_MISSING');
    const bare = sign('slack-signing-secret').slice(3);
    assertCode(
      await verify(req({ 'x-slack-signature': bare, 'x-slack-request-timestamp': `${now}` })),
      'WC_AUTH_MALFORMED',
    );
  });

  test('a rotated (second) secret is accepted', async () => {
    const verify = await verifierFor(providerMethod, { ...config, secret: ['new', 'old'] }, context);
    assertOk(await verify(req({ 'x-slack-signature': sign('old'), 'x-slack-request-timestamp': `${now}` })));
  });
});

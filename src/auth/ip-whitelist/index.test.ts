import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeContext, makeRequest, rejects, verifierFor } from '../testing.js';
import { ipWhitelistMethod } from './index.js';

const codeOf = (result: { ok: boolean; code?: string }) => (result.ok ? 'ok' : result.code);
const from = (clientIp: string | undefined) => makeRequest({ clientIp });

describe('ip_whitelist', () => {
  const list = ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32', '::1'];

  test('exact addresses and CIDR ranges, IPv4 and IPv6', async () => {
    const verify = await verifierFor(ipWhitelistMethod, list);
    for (const ip of [
      '203.0.113.7',
      '10.1.2.3',
      '10.255.255.255',
      '2001:db8::5',
      '2001:DB8:0:0::9',
      '::1',
      '::ffff:10.9.9.9',
    ]) {
      assert.equal(codeOf(await verify(from(ip))), 'ok', ip);
    }
    for (const ip of ['203.0.113.8', '11.0.0.1', '2001:db9::1', '127.0.0.1', 'not-an-ip']) {
      assert.equal(codeOf(await verify(from(ip))), 'WC_AUTH_FORBIDDEN_IP', ip);
    }
    assert.equal(
      codeOf(await verify(makeRequest({ clientIp: undefined, peerIp: undefined }))),
      'WC_AUTH_FORBIDDEN_IP',
    );
  });

  test('the resolved client address counts, not a spoofed X-Forwarded-For', async () => {
    const verify = await verifierFor(
      ipWhitelistMethod,
      ['203.0.113.7'],
      makeContext({ trustedProxies: ['192.168.0.0/16'] }),
    );
    const spoofed = (peerIp: string, xff: string) =>
      makeRequest({ clientIp: undefined, peerIp, headers: { 'x-forwarded-for': xff } });
    // Untrusted peer: its header is ignored.
    assert.equal(codeOf(await verify(spoofed('198.51.100.1', '203.0.113.7'))), 'WC_AUTH_FORBIDDEN_IP');
    // Trusted proxy: the right-most untrusted hop is the client; a prepended fake entry does not help.
    assert.equal(codeOf(await verify(spoofed('192.168.1.1', '203.0.113.7'))), 'ok');
    assert.equal(
      codeOf(await verify(spoofed('192.168.1.1', '203.0.113.7, 198.51.100.9'))),
      'WC_AUTH_FORBIDDEN_IP',
    );
    assert.equal(
      codeOf(await verify(spoofed('192.168.1.1', '198.51.100.9, 203.0.113.7, 192.168.5.5'))),
      'ok',
    );
  });

  test('fail-open and invalid configs are refused', () => {
    for (const raw of [
      [],
      {},
      '10.0.0.1',
      ['10.0.0.1', 'nope'],
      ['10.0.0.0/33'],
      ['127.1'],
      [''],
      undefined,
    ]) {
      assert.ok(rejects(ipWhitelistMethod, raw), JSON.stringify(raw));
    }
  });
});

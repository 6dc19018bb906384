import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isWebhookConnectError } from './errors.js';
import {
  assertOutboundUrl,
  blockedAddressReason,
  checkOutboundAddress,
  createGuardedLookup,
  outboundPolicyFromEnv,
  parseOutboundUrl,
  resolveOutboundHost,
} from './ssrf.js';

const none = { allowedHosts: [] };

function isBlocked(error: unknown): boolean {
  return isWebhookConnectError(error) && error.code === 'WC_SSRF_BLOCKED';
}

test('internal address ranges are classified, public unicast is not', () => {
  const blocked = [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.100.100.200',
    '224.0.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '240.0.0.1',
    '192.0.0.192',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
    '2002:7f00:1::', // 6to4 of 127.0.0.1
    '::127.0.0.1',
  ];
  for (const address of blocked) assert.ok(blockedAddressReason(address), address);
  for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    assert.equal(blockedAddressReason(address), undefined, address);
  }
});

test('URL syntax: scheme, host, length, NUL', () => {
  for (const url of [
    'ftp://example.com/',
    'file:///etc/passwd',
    'gopher://example.com',
    'http://example.com/%00',
    'http://exa\0mple.com/',
    `https://example.com/${'a'.repeat(8200)}`,
    'not a url',
  ]) {
    assert.throws(() => parseOutboundUrl(url, none), isBlocked, url);
  }
  assert.equal(parseOutboundUrl('https://example.com/hook', none).hostname, 'example.com');
});

test('legacy IPv4 spellings of loopback are refused', () => {
  for (const url of [
    'http://127.1/',
    'http://0x7f.0.0.1/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f000001/',
    'http://127.000.000.001/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://0.0.0.0/',
  ]) {
    assert.throws(() => parseOutboundUrl(url, none), isBlocked, url);
  }
});

test('metadata endpoints are refused by name and address, even with a range allow-listed', async () => {
  for (const url of [
    'http://169.254.169.254/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://metadata.google.internal./',
    'http://metadata/',
    'http://metadata.azure.com/',
    'http://METADATA.GOOGLE.INTERNAL/',
  ]) {
    assert.throws(() => parseOutboundUrl(url, { allowedHosts: ['169.254.0.0/16'] }), isBlocked, url);
  }
  // Exact listing unlocks it.
  assert.doesNotThrow(() =>
    parseOutboundUrl('http://169.254.169.254/', { allowedHosts: ['169.254.169.254'] }),
  );
  // A name that resolves to a metadata address stays refused even when the name is allow-listed.
  await assert.rejects(
    resolveOutboundHost('imds.example', { allowedHosts: ['imds.example'] }, async () => [
      { address: '169.254.169.254', family: 4 },
    ]),
    isBlocked,
  );
});

test('a DNS name resolving to loopback is refused (localhost)', async () => {
  await assert.rejects(assertOutboundUrl('http://localhost:9/', none), (error) => {
    assert.ok(isBlocked(error));
    assert.match((error as Error).message, /localhost/);
    return true;
  });
});

test('any blocked address among several refuses the host', async () => {
  const resolve = async () => [
    { address: '93.184.216.34', family: 4 },
    { address: '10.0.0.5', family: 4 },
  ];
  await assert.rejects(resolveOutboundHost('mixed.example', none, resolve), isBlocked);
  const ok = await resolveOutboundHost('mixed.example', { allowedHosts: ['10.0.0.0/8'] }, resolve);
  assert.equal(ok.length, 2);
});

test('allow-list: exact IP, CIDR, host name and wildcard', () => {
  assert.throws(() => checkOutboundAddress('127.0.0.1', '127.0.0.1', none), isBlocked);
  assert.doesNotThrow(() => checkOutboundAddress('127.0.0.1', '127.0.0.1', { allowedHosts: ['127.0.0.1'] }));
  assert.doesNotThrow(() => checkOutboundAddress('x', '10.9.8.7', { allowedHosts: ['10.0.0.0/8'] }));
  assert.throws(() => checkOutboundAddress('x', '192.168.0.1', { allowedHosts: ['10.0.0.0/8'] }), isBlocked);
  assert.doesNotThrow(() => checkOutboundAddress('x', '11.0.0.1', none));
  assert.doesNotThrow(() =>
    checkOutboundAddress('db.internal', '10.0.0.1', { allowedHosts: ['db.internal'] }),
  );
  assert.doesNotThrow(() =>
    checkOutboundAddress('a.corp.example', '10.0.0.1', { allowedHosts: ['*.corp.example'] }),
  );
  assert.throws(
    () => checkOutboundAddress('corpexample', '10.0.0.1', { allowedHosts: ['*.corp.example'] }),
    isBlocked,
  );
  assert.throws(() => checkOutboundAddress('x', '::ffff:127.0.0.1', none), isBlocked);
  assert.doesNotThrow(() => checkOutboundAddress('x', '::ffff:127.0.0.1', { allowedHosts: ['127.0.0.1'] }));
});

test('outboundPolicyFromEnv reads a comma list', () => {
  assert.deepEqual(outboundPolicyFromEnv({ OUTBOUND_ALLOWED_HOSTS: ' 127.0.0.1, ,10.0.0.0/8,db ' }), {
    allowedHosts: ['127.0.0.1', '10.0.0.0/8', 'db'],
  });
  assert.deepEqual(outboundPolicyFromEnv({}), { allowedHosts: [] });
});

test('the guarded lookup refuses loopback names on a real connection and allows listed ones', async (t) => {
  const server: Server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;

  const get = (lookup: ReturnType<typeof createGuardedLookup>) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: 'localhost', port, path: '/', lookup, family: 4 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });

  await assert.rejects(get(createGuardedLookup(none)), isBlocked);
  assert.equal(await get(createGuardedLookup({ allowedHosts: ['localhost'] })), 200);
});

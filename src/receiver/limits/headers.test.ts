import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookConnectError } from '../../shared/errors.js';
import { checkHeaders, DEFAULT_HEADER_LIMITS } from './headers.js';

function expectError(fn: () => void, code: string, status: number, detail: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WebhookConnectError);
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    assert.equal(error.detail, detail);
    return true;
  });
}

function lines(count: number, valueLength = 1): string[] {
  const raw: string[] = [];
  for (let i = 0; i < count; i++) raw.push(`X-H${i}`, 'v'.repeat(valueLength));
  return raw;
}

test('defaults are 100 headers and 64 KiB', () => {
  assert.deepEqual({ ...DEFAULT_HEADER_LIMITS }, { maxCount: 100, maxTotalBytes: 65_536 });
});

test('ordinary headers pass, including a 20 KiB cookie the reference would refuse', () => {
  checkHeaders(['Host', 'example.com', 'Content-Type', 'application/json', 'Cookie', 'c'.repeat(20_000)]);
  checkHeaders([]);
  checkHeaders(['X-Latin1', 'caf\u00e9']); // a genuine latin-1 byte is fine
});

test('at most maxCount header lines', () => {
  checkHeaders(lines(100));
  expectError(() => checkHeaders(lines(101)), 'WC_HEADERS_INVALID', 400, 'Too many headers: 101 (max: 100)');
  checkHeaders(lines(101), { maxCount: 200 });
  expectError(
    () => checkHeaders(lines(3), { maxCount: 2 }),
    'WC_HEADERS_INVALID',
    400,
    'Too many headers: 3 (max: 2)',
  );
});

test('forbidden characters in names and values', () => {
  for (const bad of ['\n', '\r', '\0', '\u2028', '\u2029', '\u00e2\u0080\u00a8', '\u00e2\u0080\u00a9']) {
    expectError(
      () => checkHeaders(['Host', 'x', `X-Bad${bad}Name`, 'ok']),
      'WC_HEADERS_INVALID',
      400,
      'Invalid header name: contains forbidden character',
    );
    expectError(
      () => checkHeaders(['Host', 'x', 'X-Injected', `a${bad}Set-Cookie: evil=1`]),
      'WC_HEADERS_INVALID',
      400,
      'Invalid header value: contains forbidden character',
    );
  }
});

test('total size budget counts name and value lengths', () => {
  // Exactly at the budget passes; one byte more is 431.
  const name = 'X-Big';
  checkHeaders([name, 'v'.repeat(65_536 - name.length)]);
  expectError(
    () => checkHeaders([name, 'v'.repeat(65_537 - name.length)]),
    'WC_HEADERS_TOO_LARGE',
    431,
    'Headers too large: 65537 bytes (max: 65536)',
  );
  expectError(
    () => checkHeaders(lines(10, 1000), { maxTotalBytes: 8192 }),
    'WC_HEADERS_TOO_LARGE',
    431,
    'Headers too large: 10040 bytes (max: 8192)',
  );
});

test('a real request through node:http arrives as rawHeaders the checker understands', async () => {
  const { createServer, request } = await import('node:http');
  const seen: string[][] = [];
  const server = createServer((req, res) => {
    seen.push(req.rawHeaders);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/',
          headers: { 'X-Sep': Buffer.from('a\u2028b').toString('latin1') },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const raw = seen[0];
  assert.ok(raw !== undefined);
  // U+2028 sent as UTF-8 bytes arrives latin-1-decoded and is still refused.
  expectError(
    () => checkHeaders(raw),
    'WC_HEADERS_INVALID',
    400,
    'Invalid header value: contains forbidden character',
  );
});

/**
 * Property tests for webhook-id and namespace validation: it never throws anything but a coded
 * `WC_WEBHOOK_ID_INVALID` / `WC_NAMESPACE_INVALID`, and it agrees with the rules as docs/configuration.md
 * states them (an oracle written from the documentation, not from the implementation). Over HTTP, a
 * random id never gets a 5xx.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  isValidNamespace,
  isValidWebhookId,
  validateNamespace,
  validateWebhookId,
} from '../../src/receiver/limits/index.js';
import { WebhookConnectError } from '../../src/shared/errors.js';
import { startTestReceiver, type TestReceiver } from '../harness/receiver.js';

/** docs/configuration.md › Webhook ids, word for word. */
const DOCUMENTED_RESERVED = [
  'stats',
  'health',
  'docs',
  'openapi.json',
  'redoc',
  'api',
  'admin',
  'root',
  'system',
  'internal',
  'favicon.ico',
  'robots.txt',
];
function documentedValid(id: string): boolean {
  // letters, digits, _ and -, starting with a letter or digit, at most 64 characters
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) return false;
  // no -- or __, and not only - and _
  if (id.includes('--') || id.includes('__') || /^[-_]+$/.test(id)) return false;
  // not reserved (case-insensitive); no prefix internal_, system_ or admin_; no suffix _internal, ...
  const lower = id.toLowerCase();
  if (DOCUMENTED_RESERVED.includes(lower)) return false;
  if (['internal_', 'system_', 'admin_'].some((prefix) => lower.startsWith(prefix))) return false;
  if (['_internal', '_system', '_admin'].some((suffix) => lower.endsWith(suffix))) return false;
  return true;
}

const idAlphabet = fc.constantFrom(
  ...'aAzZ09-_'.split(''),
  'x',
  'q',
  '.',
  ' ',
  '/',
  '%',
  '\0',
  'é',
  'İ',
  '\u2028',
);
const idLike = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: idAlphabet, maxLength: 70 }) },
  {
    weight: 2,
    arbitrary: fc.string({ unit: fc.constantFrom(...'abc019-_'.split('')), minLength: 60, maxLength: 68 }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('', 'internal_', 'SYSTEM_', 'Admin_', 'x', '_'),
        fc.constantFrom(...DOCUMENTED_RESERVED, 'stripe', 'github', 'a', 'Stats', 'ADMIN', 'adminx'),
        fc.constantFrom('', '_internal', '_System', '_ADMIN', '-1', '_'),
      )
      .map((parts) => parts.join('')),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
);

test('property: webhook-id validation never throws an uncoded error and agrees with the documented rules', () => {
  fc.assert(
    fc.property(idLike, (id) => {
      const expected = documentedValid(id);
      assert.equal(isValidWebhookId(id), expected, JSON.stringify(id));
      let thrown: unknown;
      try {
        validateWebhookId(id);
      } catch (error) {
        thrown = error;
      }
      if (expected) {
        assert.equal(thrown, undefined);
      } else {
        assert.ok(thrown instanceof WebhookConnectError, `${JSON.stringify(id)}: ${String(thrown)}`);
        assert.equal(thrown.code, 'WC_WEBHOOK_ID_INVALID');
        assert.equal(thrown.status, 400);
        assert.ok(thrown.detail.length > 0 && thrown.detail.length < 300);
        // The reason never echoes characters outside the id alphabet back to the client.
        assert.ok(!/[\0\r\n\u2028]/.test(thrown.detail));
      }
    }),
    { numRuns: 500 },
  );
});

test('property: namespace validation agrees with ^[a-zA-Z0-9_-]{1,64}$', () => {
  fc.assert(
    fc.property(idLike, (namespace) => {
      const expected = /^[a-zA-Z0-9_-]{1,64}$/.test(namespace);
      assert.equal(isValidNamespace(namespace), expected);
      if (expected) validateNamespace(namespace);
      else {
        assert.throws(
          () => validateNamespace(namespace),
          (error: unknown) => error instanceof WebhookConnectError && error.code === 'WC_NAMESPACE_INVALID',
        );
      }
    }),
    { numRuns: 500 },
  );
});

let receiver: TestReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

test('property: a random (percent-encoded) id over HTTP reaches the pipeline only when valid, else a coded 4xx; never a 5xx', async () => {
  // The catch-all refuses every body by schema, so nothing is delivered (or printed).
  const strict = (receiver = await startTestReceiver({
    webhooks: { default: { module: 'log', json_schema: { not: {} } } },
  }));
  await fc.assert(
    fc.asyncProperty(idLike, fc.option(idLike, { nil: undefined }), async (id, namespace) => {
      // Dots are escaped too, so the client does not collapse `.`/`..` segments before sending.
      const segment = (text: string) => encodeURIComponent(text).replace(/\./g, '%2E');
      const path =
        namespace === undefined ? `/webhook/${segment(id)}` : `/webhook/${segment(namespace)}/${segment(id)}`;
      const response = await strict.app.inject({
        method: 'POST',
        url: path,
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      });
      assert.ok(response.statusCode < 500, `${path} answered ${response.statusCode}`);
      // `.` and `..` are dot segments, which the server resolves (RFC 3986 §5.2.4) even when escaped:
      // `/webhook/%2E/x` is `/webhook/x` and `/webhook/%2E%2E/x` is `/x`. Such a path reaches the pipeline
      // only through what remains of it, or is refused with a coded 400 or 404.
      if ([namespace, id].some((segment) => segment === '.' || segment === '..')) {
        assert.ok([400, 404].includes(response.statusCode), `${path} answered ${response.statusCode}`);
        assert.match(
          response.json().code as string,
          /^WC_(WEBHOOK_ID_INVALID|NAMESPACE_INVALID|SCHEMA_VALIDATION_FAILED|ROUTE_NOT_FOUND)$/,
        );
        return;
      }
      const idOk = id !== '' && documentedValid(id);
      const namespaceOk = namespace === undefined || /^[a-zA-Z0-9_-]{1,64}$/.test(namespace);
      if (idOk && namespaceOk) {
        // Reached the pipeline: the catch-all's schema refuses every body.
        assert.equal(response.json().code, 'WC_SCHEMA_VALIDATION_FAILED', path);
      } else if (id === '') {
        assert.ok([400, 404].includes(response.statusCode), `${path} answered ${response.statusCode}`);
      } else {
        assert.equal(response.statusCode, 400, `${path} answered ${response.statusCode}: ${response.body}`);
        assert.match(response.json().code as string, /^WC_(WEBHOOK_ID|NAMESPACE)_INVALID$/);
      }
    }),
    // Dot segments always run (random generation reaches them rarely).
    {
      numRuns: 300,
      examples: [
        ['0', '.'],
        ['..', undefined],
        ['..', '.'],
        ['.', '0'],
      ],
    },
  );
});

/**
 * Property tests for the configuration loader: random webhooks.json files built from plausible keys and
 * random values never make `loadConfig` throw; every problem it reports carries a non-empty path that
 * starts with the entry's name; and configurations generated to be valid load, with every entry present.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createAuthRegistry } from '../../src/auth/registry.js';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { createModuleRegistry } from '../../src/modules/registry.js';
import { isValidWebhookId } from '../../src/receiver/limits/index.js';

const dir = mkdtempSync(join(tmpdir(), 'wc-property-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const authRegistry = createAuthRegistry();
const moduleRegistry = createModuleRegistry();
const ENV = { SET_VAR: 'value-from-env', EMPTY_VAR: '', NUMBER_VAR: '42' };

/** Writes the webhooks file (JSON text as given) and loads it with an empty connections file. */
function load(webhooksText: string, connections: unknown = {}): LoadResult {
  writeFileSync(join(dir, 'webhooks.json'), webhooksText);
  writeFileSync(join(dir, 'connections.json'), JSON.stringify(connections));
  return loadConfig({
    webhooksFile: join(dir, 'webhooks.json'),
    connectionsFile: join(dir, 'connections.json'),
    env: ENV,
    authRegistry,
    moduleRegistry,
    isValidWebhookId,
  });
}

// --- random (mostly invalid) entries ---------------------------------------------------------------

const weirdString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '{$SET_VAR}',
    '{$UNSET_VAR}',
    '{$UNSET_VAR:fallback}',
    '{$EMPTY_VAR}',
    '{$NUMBER_VAR}',
    '{$$literal}',
    '{$',
    '{$1X}',
    '{$vault:secret/x#y}',
    'prefix-{$SET_VAR}-suffix',
    '',
    ' ',
    '../../etc/passwd',
    'http://169.254.169.254/',
    'https://example.com/hook',
  ),
);
const scalar = fc.oneof(
  weirdString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(0, -1, 1e308, 1.5, 100, 86_400, 1_073_741_825),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: scalar },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
);

/** Plausible values for each entry key, random ones mixed in. */
const ENTRY_KEYS: Record<string, fc.Arbitrary<unknown>> = {
  module: fc.oneof(
    fc.constantFrom('log', 'save_to_disk', 'http_webhook', 'webhook_connect', 'loggg'),
    anyValue,
  ),
  'module-config': fc.oneof(
    fc.record(
      {
        url: weirdString,
        path: weirdString,
        pretty_print: anyValue,
        timeout: anyValue,
        method: anyValue,
        headers: anyValue,
        filename_pattern: weirdString,
      },
      { requiredKeys: [] },
    ),
    anyValue,
  ),
  connection: fc.oneof(fc.constantFrom('db', 'missing'), anyValue),
  data_type: fc.oneof(fc.constantFrom('json', 'blob', 'xml'), anyValue),
  chain: fc.oneof(
    fc.array(
      fc.oneof(
        fc.constantFrom('log', 'nope'),
        fc.record({ module: anyValue, 'module-config': anyValue, retry: anyValue }, { requiredKeys: [] }),
        anyValue,
      ),
      { maxLength: 4 },
    ),
    anyValue,
  ),
  'chain-config': fc.oneof(
    fc.record(
      { execution: fc.constantFrom('sequential', 'parallel', 'x'), continue_on_error: anyValue },
      { requiredKeys: [] },
    ),
    anyValue,
  ),
  retry: fc.oneof(
    fc.record(
      {
        enabled: anyValue,
        max_attempts: anyValue,
        initial_delay: anyValue,
        max_delay: anyValue,
        backoff_multiplier: anyValue,
        retryable_errors: anyValue,
      },
      { requiredKeys: [] },
    ),
    anyValue,
  ),
  credential_cleanup: fc.oneof(
    fc.record(
      { enabled: anyValue, mode: fc.constantFrom('mask', 'remove', 'x'), fields: anyValue },
      { requiredKeys: [] },
    ),
    anyValue,
  ),
  rate_limit: fc.oneof(
    fc.record({ max_requests: anyValue, window_seconds: anyValue }, { requiredKeys: [] }),
    anyValue,
  ),
  json_schema: fc.oneof(
    fc.constantFrom(
      { type: 'object' },
      { type: 'no-such-type' },
      { $ref: 'http://example.com/schema' },
      { $ref: '#/x' },
    ),
    anyValue,
  ),
  trusted_proxies: fc.oneof(
    fc.array(fc.oneof(fc.ipV4(), fc.constant('10.0.0.0/8'), weirdString), { maxLength: 3 }),
    anyValue,
  ),
  max_body_bytes: anyValue,
  hmac: fc.oneof(
    fc.record(
      {
        secret: anyValue,
        header: anyValue,
        algorithm: anyValue,
        encoding: anyValue,
        timestamp_header: anyValue,
        signed_payload: anyValue,
      },
      { requiredKeys: [] },
    ),
    anyValue,
  ),
  provider: fc.oneof(
    fc.record(
      { name: fc.constantFrom('github', 'stripe', 'standard_webhooks', 'twilio', 'nope'), secret: anyValue },
      { requiredKeys: [] },
    ),
    anyValue,
  ),
  basic_auth: anyValue,
  jwt: anyValue,
  authorization: anyValue,
  header_auth: anyValue,
  query_auth: anyValue,
  ip_whitelist: anyValue,
  digest_auth: anyValue,
  oauth1: anyValue,
  recaptcha: anyValue,
  redis: anyValue,
  topic: anyValue,
  _comment: anyValue,
  rate_limt: anyValue, // a typo: an unknown key
};

const randomEntry: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.record(ENTRY_KEYS, { requiredKeys: [] }) },
  { weight: 1, arbitrary: anyValue },
);

const entryName = fc.oneof(
  fc.constantFrom(
    'github',
    'stripe_relay',
    'a',
    'default',
    'Admin',
    'stats',
    'bad--id',
    'x'.repeat(65),
    '_comment',
  ),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
  fc.string({ maxLength: 12 }),
);

/** A JSON object text with the given entries; built by hand so that `__proto__` stays an own key. */
function objectText(entries: readonly (readonly [string, unknown])[]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`).join(',')}}`;
}

test('property: random webhook configs never crash loadConfig, and every error has a path starting with its entry', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(entryName, randomEntry), { selector: ([name]) => name, maxLength: 4 }),
      (entries) => {
        let result: LoadResult;
        try {
          result = load(objectText(entries), { db: { type: 'postgresql', host: 'db.internal' } });
        } catch (error) {
          assert.fail(`loadConfig threw ${String(error)} for ${objectText(entries).slice(0, 300)}`);
        }
        if (result.ok) {
          // Whatever loaded is exactly the non-comment entries.
          const expected = entries.map(([name]) => name).filter((name) => !name.startsWith('_'));
          assert.deepEqual([...result.config.webhooks.keys()].sort(), expected.sort());
          return;
        }
        const names = new Set(entries.map(([name]) => name));
        assert.ok(result.issues.length > 0);
        for (const issue of result.issues) {
          assert.equal(issue.file, 'webhooks.json', JSON.stringify(issue));
          assert.ok(issue.path.length > 0, `issue without a path: ${JSON.stringify(issue)}`);
          const first = issue.path[0];
          assert.ok(
            typeof first === 'string' && names.has(first),
            `path does not start with an entry: ${JSON.stringify(issue)}`,
          );
          assert.equal(typeof issue.message, 'string');
          assert.ok(issue.message.length > 0, `issue without a message: ${JSON.stringify(issue)}`);
        }
      },
    ),
    { numRuns: 400 },
  );
});

// --- valid entries ------------------------------------------------------------------------------

const validId = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
    fc.array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), { maxLength: 10 }),
    fc.array(fc.constantFrom('-', '_'), { maxLength: 1 }),
    fc.array(fc.constantFrom(...'abcdefghij0123456789'), { minLength: 1, maxLength: 6 }),
  )
  .map(([head, body, sep, tail]) => `${head}${body.join('')}${sep.join('')}${tail.join('')}`)
  .filter(isValidWebhookId);

const validEntry: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    module: fc.constantFrom('log', 'save_to_disk'),
    data_type: fc.constantFrom('json', 'blob'),
    rate_limit: fc.record({
      max_requests: fc.oneof(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 999 }).map(String),
      ),
      window_seconds: fc.integer({ min: 1, max: 86_400 }),
    }),
    retry: fc
      .record({
        enabled: fc.boolean(),
        max_attempts: fc.integer({ min: 1, max: 20 }),
        initial_delay: fc.integer({ min: 0, max: 60 }),
        backoff_multiplier: fc.integer({ min: 1, max: 10 }),
      })
      .map((retry) => ({ ...retry, max_delay: retry.initial_delay + 60 })),
    max_body_bytes: fc.integer({ min: 1, max: 1024 * 1024 * 1024 }),
    hmac: fc.record({
      secret: fc.oneof(
        fc.constant('{$SET_VAR}'),
        fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !s.includes('{$') && s.trim() !== ''),
      ),
      algorithm: fc.constantFrom('sha256', 'SHA1', 'sha512'),
    }),
    trusted_proxies: fc.array(fc.oneof(fc.ipV4(), fc.constant('10.0.0.0/8'), fc.constant('::1')), {
      maxLength: 3,
    }),
    json_schema: fc.constantFrom({ type: 'object' }, { type: 'array', items: { type: 'number' } }),
    _comment: fc.string(),
  },
  { requiredKeys: ['module'] },
);

test('property: generated valid configs load, with every entry', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(validId, validEntry), { selector: ([id]) => id, minLength: 1, maxLength: 5 }),
      (entries) => {
        const result = load(objectText(entries));
        assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.issues));
        assert.deepEqual([...result.config.webhooks.keys()].sort(), entries.map(([id]) => id).sort());
      },
    ),
    { numRuns: 150 },
  );
});

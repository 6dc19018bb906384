import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthRegistry } from '../auth/registry.js';
import { createModuleRegistry } from '../modules/registry.js';
import { isValidWebhookId } from '../receiver/limits/index.js';
import { loadConfig } from './load.js';
import { formatIssue } from './report.js';

const dir = mkdtempSync(join(tmpdir(), 'wc-load-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function load(webhooks: unknown, connections: unknown = {}, env: Record<string, string> = {}) {
  writeFileSync(join(dir, 'webhooks.json'), JSON.stringify(webhooks));
  writeFileSync(join(dir, 'connections.json'), JSON.stringify(connections));
  return loadConfig({
    webhooksFile: join(dir, 'webhooks.json'),
    connectionsFile: join(dir, 'connections.json'),
    env,
    authRegistry: createAuthRegistry(),
    moduleRegistry: createModuleRegistry(),
    isValidWebhookId,
  });
}

function messages(result: ReturnType<typeof load>): string[] {
  assert.equal(result.ok, false);
  return result.ok ? [] : result.issues.map(formatIssue);
}

test('comment keys are ignored, even when their text looks like a variable', () => {
  const result = load({
    _comment: 'set {$NOT_SET} before starting',
    a: { _note: 'uses {$ALSO_NOT_SET}', module: 'log' },
  });
  assert.ok(result.ok);
  assert.deepEqual([...(result.ok ? result.config.webhooks.keys() : [])], ['a']);
});

test('every problem is reported with its path, not only the first', () => {
  const lines = messages(
    load({
      'bad--id': { module: 'log' },
      chained: { chain: ['log', { module: 'nope' }] },
      both_read_authorization: { module: 'log', authorization: 'Bearer x', jwt: { secret: 'k'.repeat(32) } },
      needs_connection: { module: 'log', connection: 'missing' },
      schema: { module: 'log', json_schema: { type: 'no-such-type' } },
      empty_hmac: { module: 'log', hmac: {} },
      typo: { module: 'log', modul_config: {} },
    }),
  );
  const expect = [
    /webhooks\.json › bad--id: not a valid webhook id/,
    /webhooks\.json › chained › chain\[1\]\.module: unknown module 'nope'/,
    /webhooks\.json › both_read_authorization › (jwt|authorization): .*both read the authorization header/,
    /webhooks\.json › needs_connection › connection: connection 'missing' is not defined/,
    /webhooks\.json › schema › json_schema: invalid JSON schema/,
    /webhooks\.json › empty_hmac › hmac\.secret: required/,
    /webhooks\.json › typo › modul_config: unknown key/,
  ];
  for (const pattern of expect)
    assert.ok(
      lines.some((line) => pattern.test(line)),
      `${pattern} in\n${lines.join('\n')}`,
    );
});

test('the loaded configuration is frozen', () => {
  const result = load({ a: { module: 'log', 'module-config': { pretty_print: true } } });
  assert.ok(result.ok);
  const entry = result.ok ? result.config.webhooks.get('a')?.entry : undefined;
  assert.ok(entry !== undefined && Object.isFrozen(entry));
  assert.throws(() => {
    (entry as { data_type: string }).data_type = 'blob';
  }, TypeError);
});

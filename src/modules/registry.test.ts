import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isWebhookConnectError } from '../shared/errors.js';
import { createModuleRegistry, moduleFolderName, moduleNameProblem, ModuleRegistry } from './registry.js';
import type { ModuleDescriptor } from './types.js';

const modulesDir = fileURLToPath(new URL('.', import.meta.url));
const docsPath = fileURLToPath(new URL('../../docs/modules.md', import.meta.url));

test('registry keys, module folders and docs/modules.md sections agree', () => {
  const types = createModuleRegistry().types().sort();
  const folders = readdirSync(modulesDir)
    .filter((name) => statSync(`${modulesDir}/${name}`).isDirectory())
    .sort();
  assert.deepEqual(types.map(moduleFolderName).sort(), folders);
  // Every level-2 heading except the framework section names a module.
  const sections = [...readFileSync(docsPath, 'utf8').matchAll(/^## (.+)$/gm)]
    .map((m) => m[1]!.trim())
    .filter((name) => name !== 'Framework');
  assert.deepEqual(sections.sort(), types);
  for (const folder of folders) {
    for (const file of ['index.ts', 'schema.ts', 'index.test.ts']) {
      assert.ok(statSync(`${modulesDir}/${folder}/${file}`).isFile(), `${folder}/${file}`);
    }
  }
});

test('module names are validated as the reference does', () => {
  for (const name of ['log', 'save_to_disk', 'http-webhook', 'a1'])
    assert.equal(moduleNameProblem(name), undefined, name);
  for (const name of [
    '',
    '  ',
    '../x',
    'a/b',
    'a\\b',
    'a\0',
    '_x',
    '-',
    'a--b',
    'a__b',
    'a b',
    'x'.repeat(65),
    7,
  ]) {
    assert.notEqual(moduleNameProblem(name), undefined, String(name));
  }
});

test('get handles aliases and trimming; require throws 501-coded errors', () => {
  const descriptor: ModuleDescriptor = {
    type: 'postgresql',
    aliases: ['postgres'],
    schema: z.unknown(),
    secretFields: [],
    create: () => ({ deliver: async () => undefined, close: async () => undefined }),
  };
  const registry = new ModuleRegistry([descriptor as ModuleDescriptor<never>]);
  assert.equal(registry.get('postgres'), descriptor);
  assert.equal(registry.get(' postgresql '), descriptor);
  assert.ok(registry.has('postgres'));
  assert.deepEqual(registry.types(), ['postgresql']);
  assert.equal(registry.get('../etc'), undefined);
  for (const name of ['nope', '../etc']) {
    assert.throws(
      () => registry.require(name),
      (error) =>
        isWebhookConnectError(error) && error.code === 'WC_MODULE_UNAVAILABLE' && error.status === 501,
    );
  }
  assert.throws(() => registry.register(descriptor as ModuleDescriptor<never>), /twice/);
  assert.throws(() =>
    registry.register({ ...descriptor, type: 'bad/name', aliases: [] } as unknown as ModuleDescriptor<never>),
  );
});

test('the built-ins are registered', () => {
  assert.deepEqual(createModuleRegistry().types(), [
    'log',
    'save_to_disk',
    'http_webhook',
    'webhook_connect',
  ]);
});

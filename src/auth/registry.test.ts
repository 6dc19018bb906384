import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { AUTH_ORDER, createAuthRegistry, findCredentialConflicts } from './registry.js';

const authDir = fileURLToPath(new URL('.', import.meta.url));
const docsPath = fileURLToPath(new URL('../../docs/authentication.md', import.meta.url));
const kebab = (type: string) => type.replaceAll('_', '-');

test('registry keys, method folders and docs/authentication.md sections agree', () => {
  const registry = createAuthRegistry();
  const types = registry.types().sort();
  const folders = readdirSync(authDir)
    .filter((name) => statSync(join(authDir, name)).isDirectory())
    .sort();
  assert.deepEqual(types.map(kebab).sort(), folders);
  for (const folder of folders) {
    for (const file of ['index.ts', 'schema.ts', 'index.test.ts']) {
      assert.ok(statSync(join(authDir, folder, file)).isFile(), `${folder}/${file}`);
    }
  }
  const docs = readFileSync(docsPath, 'utf8');
  const sections = [...docs.matchAll(/^## `([a-z0-9_]+)`/gm)].map((match) => match[1]).sort();
  assert.deepEqual(sections, types);
});

test('every registered method type equals its descriptor key and runs in a defined order', () => {
  const registry = createAuthRegistry();
  for (const type of registry.types()) {
    assert.equal(registry.get(type)?.type, type);
    assert.ok((AUTH_ORDER as readonly string[]).includes(type), `${type} missing from AUTH_ORDER`);
  }
});

test('two configured methods reading the same credential header are reported', () => {
  const registry = createAuthRegistry();
  const conflicts = findCredentialConflicts(registry, {
    authorization: 'Bearer x',
    jwt: { secret: 'k'.repeat(32), algorithms: ['HS256'] },
    header_auth: { header_name: 'X-API-Key', api_key: 'key' },
    hmac: { header: 'X-Api-Key', secret: 's' },
  });
  assert.deepEqual(conflicts, [
    { header: 'authorization', types: ['jwt', 'authorization'] },
    { header: 'x-api-key', types: ['hmac', 'header_auth'] },
  ]);
  assert.deepEqual(findCredentialConflicts(registry, { authorization: 'Bearer x' }), []);
});

test('every fail-open config of the reference (spec §3.12, §10.3 item 33) is refused by its schema', () => {
  const registry = createAuthRegistry();
  const failOpen: Record<string, unknown[]> = {
    authorization: ['', '  ', null],
    basic_auth: [{}, { username: 'u' }, { username: 'u', password: '' }],
    jwt: [{}, { secret: '' }, { secret: 'x', algorithm: 'none' }],
    hmac: [{}, { secret: '' }, { header: 'X-Sig' }],
    provider: [{}, { name: 'stripe' }, { name: 'github', secret: '' }],
    oauth2: [{}, { validate_token: false }, { jwt_secret: '' }],
    recaptcha: [{}, { secret_key: '' }],
    ip_whitelist: [[], {}],
    header_auth: [{}, { api_key: '' }],
    query_auth: [{}, { api_key: '' }],
    digest_auth: [{}, { username: 'u', password: '' }],
    oauth1: [{}, { consumer_key: 'c' }],
  };
  assert.deepEqual(Object.keys(failOpen).sort(), registry.types().sort());
  for (const [type, configs] of Object.entries(failOpen)) {
    const method = registry.get(type);
    for (const config of configs) {
      assert.equal(method?.schema.safeParse(config).success, false, `${type}: ${JSON.stringify(config)}`);
    }
  }
});

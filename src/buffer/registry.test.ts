import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BUFFER_KINDS, createBuffer, selectBuffer } from './registry.js';

test('registry kinds, backend folders and docs agree', () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const folders = readdirSync(here, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  assert.deepEqual(folders, [...BUFFER_KINDS].sort());
  const docs = fileURLToPath(new URL('../../docs/buffers.md', import.meta.url));
  assert.ok(existsSync(docs));
});

test('createBuffer builds each kind and refuses unknown ones with a coded error', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wc-registry-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const sqlite = await createBuffer('sqlite', { sqlite: { path: join(root, 'r.sqlite') } });
  assert.equal(sqlite.kind, 'sqlite');
  await sqlite.close();
  const memory = await createBuffer('memory');
  assert.equal(memory.kind, 'memory');
  await memory.close();
  await assert.rejects(createBuffer('kafka'), { code: 'WC_CONFIG_INVALID' });
});

test('selectBuffer: explicit kind, then a service URL, then sqlite', () => {
  assert.deepEqual(selectBuffer({}), { kind: 'sqlite' });
  assert.deepEqual(selectBuffer({ WEBHOOK_CONNECT_SQLITE_PATH: '/var/lib/wc.sqlite' }), {
    kind: 'sqlite',
    sqlitePath: '/var/lib/wc.sqlite',
  });
  assert.deepEqual(selectBuffer({ WEBHOOK_CONNECT_REDIS_URL: 'redis://127.0.0.1:6379' }), { kind: 'redis' });
  assert.deepEqual(selectBuffer({ WEBHOOK_CONNECT_RABBITMQ_URL: 'amqp://127.0.0.1' }), { kind: 'rabbitmq' });
  assert.deepEqual(
    selectBuffer({ WEBHOOK_CONNECT_BUFFER: ' Memory ', WEBHOOK_CONNECT_REDIS_URL: 'redis://127.0.0.1:6379' }),
    { kind: 'memory' },
  );
});

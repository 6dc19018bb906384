import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { runBufferSuite, sampleMessage } from '../conformance.js';
import { createSqliteBuffer } from './index.js';
import { MIGRATIONS } from './migrations/index.js';

// A temp directory (and so a fresh store file) per test; `reopen` opens the latest one again.
let dir: string | undefined;
const storePath = () => join(dir ?? '', 'buffer.sqlite');

runBufferSuite('sqlite', {
  async create(options) {
    dir = mkdtempSync(join(tmpdir(), 'wc-sqlite-'));
    return createSqliteBuffer({ ...options, path: storePath() });
  },
  async reopen(options) {
    return createSqliteBuffer({ ...options, path: storePath() });
  },
  async cleanup() {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
});

test('sqlite: creates the directory, WAL journal, migrations recorded once', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wc-sqlite-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const path = join(root, 'nested', 'dir', 'store.sqlite');
  const buffer = createSqliteBuffer({ path });
  await buffer.close();
  assert.ok(existsSync(path));
  const db = new Database(path);
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  } finally {
    db.close();
  }
  const again = createSqliteBuffer({ path }); // reopening does not re-run migrations
  await again.close();
});

test('sqlite: concurrent writes share commits (group commit)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wc-sqlite-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const { GroupCommitter } = await import('./group-commit.js');
  const db = new Database(join(root, 'g.sqlite'));
  t.after(() => db.close());
  db.exec('CREATE TABLE t (v INTEGER)');
  const committer = new GroupCommitter(db, { maxBatch: 100, walPath: undefined });
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const writes = Array.from({ length: 250 }, (_, i) =>
    committer.run(() => insert.run(i).changes, 'power_loss'),
  );
  const failing = committer.run(() => {
    insert.run(-1);
    throw new Error('boom');
  }, 'power_loss');
  await assert.rejects(failing, /unavailable|boom/i);
  assert.deepEqual(new Set(await Promise.all(writes)), new Set([1]));
  assert.equal(committer.counters.operations, 251);
  assert.equal(committer.counters.commits, 3, '251 operations in batches of at most 100');
  assert.equal(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 250, 'the failed op rolled back alone');
});

test('sqlite: a power-loss write settles only after a WAL fsync that began after its commit; one fsync serves many', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wc-sqlite-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const { GroupCommitter } = await import('./group-commit.js');
  const db = new Database(join(root, 'd.sqlite'));
  t.after(() => db.close());
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v INTEGER)');
  const syncs: { path: string; finish: (error?: Error) => void }[] = [];
  const committer = new GroupCommitter(db, {
    maxBatch: 100,
    walPath: join(root, 'd.sqlite-wal'),
    syncFile: (path) =>
      new Promise<void>((resolve, reject) =>
        syncs.push({ path, finish: (error) => (error === undefined ? resolve() : reject(error)) }),
      ),
  });
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const settled: string[] = [];
  const track = (name: string, promise: Promise<unknown>) =>
    promise.then(
      () => settled.push(`${name} ok`),
      (error: { code?: string }) => settled.push(`${name} ${error.code}`),
    );
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  const lease = track(
    'crash',
    committer.run(() => insert.run(1), 'crash'),
  );
  const first = track(
    'a',
    committer.run(() => insert.run(2), 'power_loss'),
  );
  await turn();
  await lease;
  assert.deepEqual(settled, ['crash ok'], 'the crash-safe write settles at its commit, the other waits');
  assert.equal(syncs.length, 1);
  assert.equal(syncs[0]?.path, join(root, 'd.sqlite-wal'));

  // Committed while the first fsync runs: they wait for a second one, which starts after the first.
  const second = track(
    'b',
    committer.run(() => insert.run(3), 'power_loss'),
  );
  const third = track(
    'c',
    committer.run(() => insert.run(4), 'power_loss'),
  );
  await turn();
  assert.equal(syncs.length, 1, 'one fsync at a time');
  syncs[0]?.finish();
  await first;
  assert.deepEqual(settled, ['crash ok', 'a ok']);
  await turn();
  assert.equal(syncs.length, 2, 'the next fsync covers both later commits');
  syncs[1]?.finish(new Error('EIO'));
  await Promise.all([second, third]);
  assert.deepEqual(settled, ['crash ok', 'a ok', 'b WC_BUFFER_UNAVAILABLE', 'c WC_BUFFER_UNAVAILABLE']);
  assert.deepEqual(committer.counters, { commits: 2, fsyncs: 1, operations: 4 });
});

test('sqlite: close commits the queued appends and settles them before it resolves', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wc-sqlite-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const buffer = createSqliteBuffer({ path: join(root, 'b.sqlite') });
  await buffer.ensureChannel('c');
  const appends = Array.from({ length: 20 }, () => buffer.append(sampleMessage('c')));
  await buffer.close(); // before the appends settled
  assert.equal((await Promise.allSettled(appends)).filter((r) => r.status === 'fulfilled').length, 20);
  const again = createSqliteBuffer({ path: join(root, 'b.sqlite') });
  t.after(() => again.close());
  await again.ensureChannel('c');
  assert.equal(await again.depth('c'), 20);
});

test('sqlite: processes opening one new store at the same moment all succeed (migrations under the write lock)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wc-sqlite-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const module = new URL('./index.ts', import.meta.url).href;
  // Every process loads first, then opens the store at the same agreed moment.
  const open = (path: string, at: number) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const script = `const { createSqliteBuffer } = await import(${JSON.stringify(module)});
        await new Promise((resolve) => setTimeout(resolve, ${at} - Date.now()));
        const buffer = createSqliteBuffer({ path: ${JSON.stringify(path)} });
        await buffer.ensureChannel('c');
        await buffer.close();`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  for (let round = 0; round < 3; round++) {
    const path = join(root, `race-${round}.sqlite`);
    const at = Date.now() + 3000;
    const results = await Promise.all([open(path, at), open(path, at), open(path, at), open(path, at)]);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    db.close();
  }
});

test('sqlite: an unopenable path is WC_BUFFER_UNAVAILABLE', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wc-sqlite-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.throws(() => createSqliteBuffer({ path: root }), { code: 'WC_BUFFER_UNAVAILABLE' });
  const buffer = createSqliteBuffer({ path: join(root, 'ok.sqlite') });
  await buffer.ensureChannel('c');
  await buffer.append(sampleMessage('c'));
  await buffer.close();
});

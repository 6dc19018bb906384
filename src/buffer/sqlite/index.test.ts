import assert from 'node:assert/strict';
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
  const committer = new GroupCommitter(db, 100);
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

test('sqlite: power-loss writes commit with synchronous=FULL, crash-safe writes with NORMAL', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wc-sqlite-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const { GroupCommitter } = await import('./group-commit.js');
  const db = new Database(join(root, 'd.sqlite'));
  t.after(() => db.close());
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (v INTEGER)');
  const committer = new GroupCommitter(db, 100);
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const level = () => db.pragma('synchronous', { simple: true }) as number; // 2 FULL, 1 NORMAL

  await committer.run(() => insert.run(1), 'crash');
  assert.equal(level(), 1, 'a batch of crash-safe writes commits NORMAL');
  assert.deepEqual(committer.counters, { commits: 1, fsyncedCommits: 0, operations: 1 });
  await Promise.all([
    committer.run(() => insert.run(2), 'crash'),
    committer.run(() => insert.run(3), 'power_loss'),
  ]);
  assert.equal(level(), 2, 'one power-loss write makes the whole batch FULL');
  assert.deepEqual(committer.counters, { commits: 2, fsyncedCommits: 1, operations: 3 });
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

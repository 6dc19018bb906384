/** Opens the store file with the durability settings the product promises, and migrates it. */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations/index.js';

/** Default store location, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = './data/webhook-connect.sqlite';

export function openStore(path: string, busyTimeoutMs: number): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  // `timeout`: how long a statement waits for a lock held by another connection (busy_timeout).
  const db = new Database(path, { timeout: Math.max(0, Math.floor(busyTimeoutMs)) });
  try {
    switchToWal(db, busyTimeoutMs);
    // NORMAL: a commit is in the WAL (the OS cache) without waiting for the disk; the group committer
    // fsyncs the WAL off the event loop before a write that must survive a power loss resolves.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * `journal_mode = WAL`, retried while another connection holds the lock: switching the mode of a new
 * store needs an exclusive lock and fails at once with SQLITE_BUSY (the busy handler does not apply),
 * as when two processes open one new store at the same moment.
 */
function switchToWal(db: Database.Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // a short synchronous pause
    }
  }
}

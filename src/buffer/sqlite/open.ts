/** Opens the store file with the durability settings the product promises, and migrates it. */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations/index.js';

/** Default store location, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = './data/webhook-connect.sqlite';

export function openStore(path: string, busyTimeoutMs: number): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL: a commit is in the WAL (the OS cache) without waiting for the disk; the group committer
    // fsyncs the WAL off the event loop before a write that must survive a power loss resolves.
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Numbered, append-only schema migrations. `PRAGMA user_version` holds the number of the last one
 * applied; each runs in its own transaction together with the version bump. SQL lives in TS string
 * constants so the compiled `dist/` carries it without copying files.
 */
import type Database from 'better-sqlite3';
import { MIGRATION_001_INITIAL } from './001-initial.js';

export const MIGRATIONS: readonly string[] = [MIGRATION_001_INITIAL];

/**
 * Applies the migrations newer than the store's version; refuses a store from a newer release. Each
 * migration reads the version again inside its write transaction: processes opening one new store at the
 * same moment (two `serve` on one file) then apply it once, the others see it done.
 */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `sqlite buffer schema version ${current} is newer than this release (${MIGRATIONS.length})`,
    );
  }
  MIGRATIONS.forEach((sql, index) => {
    const version = index + 1;
    if (version <= current) return;
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) >= version) return;
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  });
}

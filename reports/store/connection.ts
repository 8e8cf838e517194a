/**
 * Opening the results database: the connection's settings (busy timeout,
 * WAL, foreign keys) and bringing its schema to this version (migrations:
 * schema.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { inputError, usageError } from '../../traces/index.js';
import { MIGRATIONS } from './schema.js';

/**
 * Switches a database to WAL. The switch needs the database to itself and
 * SQLite does not wait for it (busy_timeout does not apply), so processes
 * opening a new database at the same moment retry for up to 10 s.
 */
function walMode(db: Database.Database): void {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      if (db.pragma('journal_mode', { simple: true }) === 'wal') return;
      db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > until) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/** Applies the migrations `path`'s database lacks, each in its own write transaction. */
function migrate(db: Database.Database, path: string): void {
  const have = db.pragma('user_version', { simple: true }) as number;
  if (have > MIGRATIONS.length) {
    throw inputError(`${path} has schema version ${have}, newer than this allocreplay (${MIGRATIONS.length})`, 'upgrade allocreplay');
  }
  if (have === MIGRATIONS.length) return;
  // Migrations rebuild tables that others reference: foreign keys are checked once, after.
  db.pragma('foreign_keys = OFF');
  try {
    // Each step re-reads the version under the write lock, so processes that
    // open a new database at once migrate it once, not once each.
    const step = db.transaction((): boolean => {
      const v = db.pragma('user_version', { simple: true }) as number;
      if (v >= MIGRATIONS.length) return false;
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
      return true;
    });
    while (step.immediate()) {
      // next migration
    }
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

/**
 * Opens the database at `path`: read-only (it must exist and be an
 * allocreplay database), or read-write (created when missing and migrated
 * to this schema).
 */
export function openDatabase(path: string, readonly: boolean): Database.Database {
  if (readonly && !existsSync(path)) throw usageError(`no results database at ${path}`, 'run a replay first, or pass --db PATH');
  if (!readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
    db.pragma('busy_timeout = 10000');
    if (!readonly) {
      walMode(db);
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
  } catch (e) {
    throw inputError(`cannot open results database ${path}: ${(e as Error).message}`, 'pass --db with a SQLite file written by allocreplay');
  }
  if (!readonly) migrate(db, path);
  else if ((db.pragma('user_version', { simple: true }) as number) === 0) {
    throw inputError(`${path} is not an allocreplay results database`, 'pass --db with a file written by allocreplay');
  }
  return db;
}

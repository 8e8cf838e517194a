/** `db query`: a user's SQL, run read-only. */
import type Database from 'better-sqlite3';
import { usageError } from '../../traces/index.js';

/** Runs a statement that only reads and returns its rows; anything else is a usage error. */
export function readOnlyQuery(db: Database.Database, sql: string): Record<string, unknown>[] {
  try {
    const st = db.prepare(sql);
    if (!st.reader) throw usageError('db query runs read-only statements only', 'use SELECT (the results database is never changed by a query)');
    return st.all() as Record<string, unknown>[];
  } catch (e) {
    if (e instanceof Error && e.name === 'AllocreplayError') throw e;
    throw usageError(`query failed: ${(e as Error).message}`, 'check the SQL; `db query "SELECT name FROM sqlite_master"` lists the tables');
  }
}

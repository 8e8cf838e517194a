/**
 * Runs one read-only query in a child process so that `db query --timeout`
 * can stop it: SQLite offers better-sqlite3 no way to interrupt a statement
 * (a recursive CTE can run for ever), but a process can always be killed.
 * argv: the database path; stdin: the SQL; stdout: `{ rows }` or `{ error }` as JSON.
 */
import { readFileSync } from 'node:fs';
import { openStore } from '../reports/index.js';
import { AllocreplayError } from '../traces/index.js';

const db = process.argv[2]!;
const sql = readFileSync(0, 'utf8');
let out: unknown;
try {
  const store = openStore(db, { readonly: true });
  try {
    out = { rows: store.query(sql) };
  } finally {
    store.close();
  }
} catch (e) {
  const err = e instanceof AllocreplayError ? e : new AllocreplayError('usage', `query failed: ${(e as Error).message}`);
  out = { error: { code: err.code, message: err.message, hint: err.hint } };
}
process.stdout.write(JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Args, Flags } from '@oclif/core';
import { AllocreplayError, type ErrorCode, onInterrupt, usageError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';
import { table } from '../../render.js';

type ChildOutput = { rows: Record<string, unknown>[] } | { error: { code: ErrorCode; message: string; hint?: string } };

/** Runs `sql` on `db` in a child process, killed after `timeoutS` seconds (0: never). */
async function queryWithTimeout(db: string, sql: string, timeoutS: number): Promise<Record<string, unknown>[]> {
  const script = fileURLToPath(new URL('../../db-query-child.js', import.meta.url));
  const child = spawn(process.execPath, [script, db], { stdio: ['pipe', 'pipe', 'pipe'] });
  const undo = onInterrupt(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
  child.stdin.end(sql);
  let timedOut = false;
  const timer = timeoutS > 0 ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), timeoutS * 1000) : undefined;
  const code = await new Promise<number | null>((res) => child.on('close', res));
  clearTimeout(timer);
  undo();
  if (timedOut) throw usageError(`query stopped after --timeout ${timeoutS} s`, 'narrow the query, or raise --timeout (0: no limit)');
  let out: ChildOutput;
  try {
    out = JSON.parse(stdout) as ChildOutput;
  } catch {
    throw new Error(`query process exited with status ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`);
  }
  if ('error' in out) throw new AllocreplayError(out.error.code, out.error.message, out.error.hint);
  return out.rows;
}

export default class DbQuery extends BaseCommand {
  static override description = 'Run a read-only SQL query on the results database';
  static override examples = ['<%= config.bin %> db query "SELECT target, count(*) FROM runs JOIN configurations c ON c.id = configuration_id GROUP BY target"'];
  static override args = { sql: Args.string({ description: 'SQL (read-only)', required: true }) };
  static override flags = {
    ...dbFlag,
    timeout: Flags.integer({ description: 'stop the query after this many seconds (0: no limit)', default: 10, min: 0 }),
    json: Flags.boolean({ description: 'print rows as JSON' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DbQuery);
    // Opened here first so a wrong --db is reported before any process starts.
    const store = storeFor(flags.db, true);
    const path = store.path;
    store.close();
    const rows = await queryWithTimeout(path, args.sql, flags.timeout);
    if (flags.json) return this.printJson(rows);
    const cols = rows.length ? Object.keys(rows[0]!) : [];
    this.log(table(cols, rows.map((r) => cols.map((c) => (r[c] === null ? '' : String(r[c]))))));
    this.log(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  }
}

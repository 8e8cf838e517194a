/**
 * Waiting on a child process by evidence, never by the clock. A test names
 * the state it waits for as a check (a row in a database, a file, a line of
 * output) and `reached` runs that check again whenever the child shows a
 * sign of life: it writes to a pipe the test holds, or something changes in
 * a folder the test watches. A child that ends before the state is reached
 * fails the wait at once, saying how it ended and what it last wrote to
 * stderr; a child that lives on without reaching it is the suite's timeout.
 */
import type { ChildProcess } from 'node:child_process';
import { type FSWatcher, watch } from 'node:fs';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';

/** Characters of the child's stderr kept for the message of a failed wait. */
const STDERR_KEPT = 2000;

/** How a child ended, in words: `exited with status 1`, `was killed by SIGKILL`. */
export function howItEnded(child: ChildProcess): string {
  return child.signalCode ? `was killed by ${child.signalCode}` : `exited with status ${child.exitCode}`;
}

/**
 * Resolves with the first value `check` returns other than `undefined` or `false`,
 * checking now, on every chunk the child writes to a piped stream, and on
 * every change in `dirs` (each watched itself, not recursively). Rejects as
 * soon as the child has exited and a last check still finds nothing.
 */
export function reached<T>(child: ChildProcess, what: string, check: () => T | undefined | false, opts: { dirs?: string[] } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const watchers: FSWatcher[] = [];
    const streams = [child.stdout, child.stderr, ...child.stdio.slice(3)].filter((s): s is Readable => s !== null && s !== undefined && 'read' in s);
    let stderr = '';
    let settled = false;
    let queued = false;
    const onStderr = (d: Buffer | string): void => {
      stderr = (stderr + d.toString()).slice(-STDERR_KEPT);
    };
    const finish = (): void => {
      settled = true;
      for (const w of watchers) w.close();
      for (const s of streams) s.off('data', again);
      child.stderr?.off('data', onStderr);
      child.off('exit', ended);
    };
    const attempt = (): boolean => {
      if (settled) return true;
      let value: T | undefined | false;
      try {
        value = check();
      } catch (e) {
        finish();
        reject(e);
        return true;
      }
      if (value === undefined || value === false) return false;
      finish();
      resolve(value);
      return true;
    };
    // Bursts of output or file events are checked once.
    function again(): void {
      if (queued || settled) return;
      queued = true;
      setImmediate(() => {
        queued = false;
        attempt();
      });
    }
    function ended(): void {
      if (attempt()) return;
      // What it wrote last may still be in the pipe: read to its end first.
      const err = child.stderr;
      if (err && !err.destroyed) {
        err.once('close', ended);
        return;
      }
      finish();
      const tail = stderr.trim().split('\n').slice(-5).join('\n');
      reject(new Error(`waiting for ${what}: the child (pid ${child.pid}) ${howItEnded(child)} before that${tail ? `; its stderr ended:\n${tail}` : ''}`));
    }
    child.stderr?.on('data', onStderr);
    for (const s of streams) s.on('data', again);
    for (const d of opts.dirs ?? []) watchers.push(watch(d, again));
    if (child.exitCode !== null || child.signalCode !== null) return ended();
    child.on('exit', ended);
    attempt();
  });
}

/** A count read from a database a child writes; `close()` when done waiting. */
export interface Count {
  (): number;
  close(): void;
}

/**
 * `sql` (a query giving one row with a column `n`) on the SQLite database at
 * `path`, through one read-only connection kept open across calls: opening
 * and closing a connection touches the database's WAL, which would wake a
 * watch on its folder and check again, without end. 0 while the database or
 * its tables do not exist yet.
 */
export function countIn(path: string, sql: string): Count {
  let db: Database.Database | undefined;
  const count = (): number => {
    try {
      db ??= new Database(path, { readonly: true, fileMustExist: true });
      return (db.prepare(sql).get() as { n: number }).n;
    } catch (e) {
      // Not there yet: the file, its schema, or a moment when the writer holds it.
      if (e instanceof Database.SqliteError && (e.code === 'SQLITE_CANTOPEN' || e.code === 'SQLITE_BUSY' || /^no such table/.test(e.message))) return 0;
      throw e;
    }
  };
  return Object.assign(count, { close: () => db?.close() });
}

/**
 * The waits the other tests rely on: a state seen through a pipe or a file
 * resolves the wait while the child lives on, and a child that ends first
 * fails it at once, saying how it ended.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countIn, reached } from './handshake.js';
import { tempDir } from './helpers.js';

/** A node child running `code`, stdin a pipe it can wait on (it ends when the test closes it). */
const node = (code: string) => spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });

describe('waiting by handshake', () => {
  it('a line of output, while the child lives on', async () => {
    const child = node("console.log('ready'); process.stdin.resume();");
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    expect(await reached(child, 'ready', () => /^ready$/m.test(out) && out)).toBe('ready\n');
    expect(child.exitCode).toBeNull();
    child.stdin.end();
  });

  it('a file in a watched folder, while the child lives on', async () => {
    const dir = tempDir();
    const file = join(dir, 'here');
    const child = node(`require('node:fs').writeFileSync(${JSON.stringify(file)}, 'x'); process.stdin.resume();`);
    await reached(child, 'the file', () => existsSync(file), { dirs: [dir] });
    expect(child.exitCode).toBeNull();
    child.stdin.end();
  });

  it('a row in a database the child writes, seen through one connection', async () => {
    const dir = tempDir();
    const db = join(dir, 'r.sqlite');
    const child = spawn(process.execPath, ['--input-type=module', '-e', `import Database from 'better-sqlite3'; const d = new Database(${JSON.stringify(db)}); d.pragma('journal_mode = WAL'); d.exec('CREATE TABLE runs (x); INSERT INTO runs VALUES (1), (2)'); process.stdin.resume();`], { cwd: import.meta.dirname, stdio: ['pipe', 'ignore', 'pipe'] });
    const runs = countIn(db, 'SELECT count(*) AS n FROM runs');
    await reached(child, '2 runs', () => runs() === 2, { dirs: [dir] }).finally(runs.close);
    child.stdin.end();
  });

  it('a child that ends first fails the wait at once, with its status and the end of its stderr', async () => {
    const child = node("console.error('no such trace'); process.exit(3);");
    await expect(reached(child, 'ready', () => false)).rejects.toThrow(/^waiting for ready: the child \(pid \d+\) exited with status 3 before that; its stderr ended:\nno such trace$/);
    const killed = node('process.stdin.resume();');
    const wait = reached(killed, 'ready', () => false);
    killed.kill('SIGKILL');
    await expect(wait).rejects.toThrow(/was killed by SIGKILL before that/);
  });
});

/**
 * Issue 11, the CLI facing hostile input and signals: formula cells in CSV,
 * a query that never ends, a --db that is not a database, and Ctrl-C/SIGTERM
 * in the middle of a measurement (no driver left running, no temp
 * directory left behind, nothing half-written in the database).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { generate } from '../../traces/index.js';
import { compileNative } from '../../traces/index.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const db = join(dir, 'results.sqlite');
const trace = join(dir, '=1+2.trace.msgpack');
generate('random-mixed', { slots: 64, ops: 2000, seed: 1 }, trace);

/** The CLI as a child we can signal; resolves with its exit status and stderr. */
function cliAsync(args: string[], env: Record<string, string>): { pid: number; done: Promise<{ status: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return { pid: child.pid!, done: new Promise((res) => child.on('close', (status, signal) => res({ status, signal, stderr }))) };
}

/** Children of `pid`, from /proc. */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** True while `pid` is a live (not zombie) process. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('db commands', () => {
  it('a first replay stores a run to look at', () => {
    const r = cli(['replay', trace, '-t', 'system', '--repeat', '1', '--warmup', '0', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('db export --format csv neutralises cells a spreadsheet would evaluate', () => {
    const r = cli(['db', 'export', '--format', 'csv', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    const [head, row] = r.stdout.trim().split('\n');
    const col = head!.split(',').indexOf('trace');
    expect(row!.split(',')[col]).toBe("'=1+2");
  });

  it('db query stops at --timeout (exit 2) and stays read-only', () => {
    const forever = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
    const r = cli(['db', 'query', forever, '--timeout', '1', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('allocreplay: query stopped after --timeout 1 s (narrow the query, or raise --timeout (0: no limit))');
    const w = cli(['db', 'query', 'DELETE FROM runs', '--db', db]);
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/read-only statements only/);
    const ok = cli(['db', 'query', 'SELECT count(*) AS n FROM runs', '--json', '--db', db]);
    expect(JSON.parse(ok.stdout)).toEqual([{ n: 1 }]);
  });

  it('user mistakes are clean errors: a --db that is not a database, a bisection id that is not a number', () => {
    writeFileSync(join(dir, 'some.txt'), 'hello, not a database\n'.repeat(50));
    for (const args of [['db', 'runs'], ['db', 'export'], ['db', 'query', 'SELECT 1'], ['report', 'matrix']]) {
      const r = cli([...args, '--db', join(dir, 'some.txt')]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/some\.txt/);
    }
    const merge = cli(['db', 'merge', join(dir, 'some.txt'), '--db', db]);
    expect(merge.status).toBe(1);
    expect(merge.stderr).toMatch(/some\.txt: not an allocreplay results database/);
    const out = cli(['db', 'export', '-o', join(dir, 'no-such-dir', 'x.csv'), '--db', db]);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/^allocreplay: cannot write .*x\.csv: ENOENT/);
    const imp = cli(['import', 'aosp', join(dir, 'some.txt'), '-o', dir]);
    expect(imp.status).toBe(2);
    expect(imp.stderr).toMatch(/is a directory/);
    const gen = cli(['generate', 'tiny-hot', '--ops', '10', '-o', dir]);
    expect(gen.status).toBe(1);
    expect(gen.stderr).toMatch(/^allocreplay: cannot rename .* EISDIR/);
    const b = cli(['bisect', 'show', 'abc', '--db', db]);
    expect(b.status).toBe(2);
    expect(b.stderr).not.toMatch(/internal error/);
  });
});

describe('flags never reach a shell', () => {
  it('a shell payload as a flag name or value, from --set or a bisect spec, is exit 2 and runs nothing', () => {
    const canary = join(dir, 'PWNED');
    for (const args of [
      ['replay', trace, '-t', 'tinyslab', '--set', `X$(touch ${canary})=1`],
      ['replay', trace, '-t', 'tinyslab', '--set', `TS_POOL=1;touch ${canary}`],
      ['bisect', 'flags', '--target', 'tinyslab', '--good', 'TS_POOL=1', '--bad', `TS_POOL=$(touch ${canary})`, '--trace', trace],
      ['bisect', 'flags', '--target', 'tinyslab', '--good', 'TS_POOL=1', '--bad', `TS_POOL=2 A'$(touch ${canary})'=1`, '--trace', trace],
    ]) {
      const r = cli([...args, '--db', join(dir, 'flags.sqlite')]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).not.toMatch(/internal error/);
    }
    expect(existsSync(canary)).toBe(false);
  });
});

describe('signals', () => {
  const hang = compileNative({ name: 'fixture-hang.so', sources: [join(ROOT, 'test/fixtures/allocators/hang.c')], shared: true });

  for (const [sig, metric] of [['SIGINT', 'time'], ['SIGTERM', 'time'], ['SIGINT', 'instructions']] as const) {
    it(`${sig} during a measurement (${metric === 'time' ? 'driver' : 'valgrind'}) kills its process group, removes temp dirs, stores nothing half-made`, async () => {
      const tmp = join(dir, `tmp-${sig}-${metric}`);
      mkdirSync(tmp);
      const sigDb = join(dir, `${sig}-${metric}.sqlite`);
      const run = cliAsync(['replay', trace, '-t', hang, '--env', 'ALLOCREPLAY_HANG_AT=500', '--repeat', '1', '--metric', metric, '--timeout', '600', '--db', sigDb], { TMPDIR: tmp });
      // Wait for the driver: a child of the CLI with its work directory in our TMPDIR.
      let driver: number | undefined;
      for (let i = 0; i < 600 && driver === undefined; i++) {
        await sleep(50);
        if (readdirSync(tmp).some((f) => f.startsWith('allocreplay-run-'))) driver = children(run.pid)[0];
      }
      expect(driver).toBeDefined();
      await sleep(metric === 'time' ? 300 : 1500); // let it reach the hang (valgrind starts slower)
      process.kill(run.pid, sig);
      const r = await run.done;
      expect(r.status).toBe(sig === 'SIGINT' ? 130 : 143);
      expect(r.stderr).toMatch(/interrupted/);
      for (let i = 0; i < 100 && alive(driver!); i++) await sleep(20);
      expect(alive(driver!)).toBe(false);
      expect(readdirSync(tmp)).toEqual([]);
      if (existsSync(sigDb)) {
        const d = new Database(sigDb, { readonly: true });
        expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
        expect((d.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n).toBe(0);
        d.close();
      }
    });
  }
});

/**
 * Issue 11, the CLI facing hostile input and signals: formula cells in CSV,
 * a query that never ends, a --db that is not a database, and Ctrl-C/SIGTERM
 * in the middle of a measurement (no driver left running, no temp
 * directory left behind, nothing half-written in the database).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { generate } from '../../traces/index.js';
import { compileNative } from '../../traces/index.js';
import { howItEnded, reached } from '../handshake.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const db = join(dir, 'results.sqlite');
const trace = join(dir, '=1+2.trace.msgpack');
generate('random-mixed', { slots: 64, ops: 2000, seed: 1 }, trace);

/** The CLI as a child we can signal; `done` resolves with its exit status and stderr. */
function cliAsync(args: string[], env: Record<string, string>): { child: ChildProcess; pid: number; done: Promise<{ status: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return { child, pid: child.pid!, done: new Promise((res) => child.on('close', (status, signal) => res({ status, signal, stderr }))) };
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

/**
 * True when `pid` has ended or is on its way out: not alive, a SIGKILL
 * pending (SigPnd, ShdPnd), or exiting (PF_EXITING, PF_SIGNALED). False
 * means nothing will end it: a process left running.
 */
function ending(pid: number): boolean {
  const SIGKILL_BIT = 1n << 8n;
  const PF_EXITING = 0x4;
  const PF_SIGNALED = 0x400;
  try {
    // The pending signals first: they are cleared just before the flags are set.
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    for (const m of status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)) if (BigInt(`0x${m[1]}`) & SIGKILL_BIT) return true;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
    return (flags & (PF_EXITING | PF_SIGNALED)) !== 0 || !alive(pid);
  } catch {
    return true; // gone
  }
}

/** Watches `pid` through a pidfd (test/hostile/probes/pidwait.c): resolves once the watch is set, with the watcher, which exits when `pid` has ended. */
async function watchEnd(pid: number): Promise<ChildProcess> {
  const pidwait = compileNative({ name: 'pidwait', sources: [join(ROOT, 'test/hostile/probes/pidwait.c')] });
  const watcher = spawn(pidwait, [String(pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  watcher.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  await reached(watcher, `a watch on pid ${pid}`, () => out.includes(`watching ${pid}\n`));
  return watcher;
}

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
      const note = join(dir, `hang-${sig}-${metric}`);
      const run = cliAsync(['replay', trace, '-t', hang, '--env', 'ALLOCREPLAY_HANG_AT=500', '--env', `ALLOCREPLAY_HANG_NOTE=${note}`, '--repeat', '1', '--metric', metric, '--timeout', '600', '--db', sigDb], { TMPDIR: tmp });
      // The allocator writes its pid to the note once it hangs (under valgrind too, however slowly it starts).
      const hung = await reached(run.child, 'the allocator to hang', () => (existsSync(note) ? /^(\d+)\n$/.exec(readFileSync(note, 'utf8'))?.[1] : undefined), { dirs: [dir] });
      const driver = Number(hung);
      // It is the driver: a child of the CLI with its work directory in our TMPDIR.
      expect(children(run.pid)).toContain(driver);
      expect(readdirSync(tmp).some((f) => f.startsWith('allocreplay-run-'))).toBe(true);
      const watcher = await watchEnd(driver);
      const watched = new Promise((res) => watcher.on('close', res));
      process.kill(run.pid, sig);
      const r = await run.done;
      expect(r.status).toBe(sig === 'SIGINT' ? 130 : 143);
      expect(r.stderr).toMatch(/interrupted/);
      // The CLI has exited: its SIGKILL is on its way to the driver, or the driver is left running.
      if (!ending(driver)) {
        watcher.kill();
        process.kill(driver, 'SIGKILL');
        expect.fail('the driver was left running after the CLI exited');
      }
      await watched;
      expect(watcher.exitCode, `pidwait ${howItEnded(watcher)}`).toBe(0);
      expect(alive(driver)).toBe(false);
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

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLAN_LAYOUT, planFor, resolveTarget, runReplay } from '../../engine/index.js';
import { compileNative, generate } from '../../traces/index.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const rm = join(dir, 'rm.trace.msgpack');
const larson = join(dir, 'larson.trace.msgpack');
const fixture = (name: string): string =>
  compileNative({ name: `fixture-${name}.so`, sources: [join(ROOT, 'test/fixtures/allocators', `${name}.c`)], shared: true });

beforeAll(() => {
  generate('random-mixed', { ops: 200_000, slots: 256 }, rm);
  generate('larson', { ops: 400_000, threads: 4 }, larson);
});

const opts = { mode: 'serial' as const, touch: 'none' as const, repeat: 3, warmup: 1, metric: 'time' as const, timeoutMs: 60_000 };

describe('replay driver', () => {
  it.each(['system', 'jemalloc', 'mimalloc', 'tcmalloc'])('replays through %s with clean checks', async (name) => {
    const r = await runReplay(planFor(rm), resolveTarget(name), opts);
    expect(r.status).toBe('ok');
    expect(r.samples).toHaveLength(3);
    expect(r.samples.every((s) => s.nsPerOp > 0 && s.peakRssKiB > 0)).toBe(true);
    expect(r.checks).toEqual({ nulls: 0, misaligned: 0, shortUsable: 0, leaked: 0, doubleFreed: 0 });
    expect(r.series!.length).toBeGreaterThan(50);
    expect(Math.max(...r.series!.map((p) => p.liveBytes))).toBeGreaterThan(0);
  });

  it('counts instructions exactly: two runs give the same count', async () => {
    const plan = planFor(rm);
    const a = await runReplay(plan, resolveTarget('system'), { ...opts, metric: 'instructions' });
    const b = await runReplay(plan, resolveTarget('system'), { ...opts, metric: 'instructions' });
    expect(a.status).toBe('ok');
    expect(a.samples[0]!.instructions).toBeGreaterThan(200_000 * 20);
    expect(b.samples[0]!.instructions).toBe(a.samples[0]!.instructions);
    const j = await runReplay(plan, resolveTarget('jemalloc'), { ...opts, metric: 'instructions' });
    expect(j.samples[0]!.instructions).not.toBe(a.samples[0]!.instructions);
  });

  it('threads mode replays larson on 4 threads, every object freed exactly once', async () => {
    for (const t of ['system', 'jemalloc']) {
      const r = await runReplay(planFor(larson), resolveTarget(t), { ...opts, mode: 'threads' });
      expect(r.status).toBe('ok');
      expect(r.checks).toMatchObject({ leaked: 0, doubleFreed: 0, nulls: 0 });
    }
  });

  it('a crashing allocator is a crashed run with its signal and op index', async () => {
    const lib = fixture('crash_nth');
    const r = await runReplay(planFor(rm), { name: 'crash', kind: 'preload', library: lib, env: { ALLOCREPLAY_CRASH_AT: '5000' } }, opts);
    expect(r.status).toBe('crashed');
    expect(r.signal).toBe('SIGSEGV');
    // The 5000th malloc happens at about op 10000 of an alloc/free mix.
    expect(r.opIndex).toBeGreaterThan(5000);
    expect(r.opIndex).toBeLessThan(20000);
  });

  it('a hanging allocator is killed and recorded as timeout', async () => {
    const lib = fixture('hang');
    const r = await runReplay(planFor(rm), { name: 'hang', kind: 'preload', library: lib, env: { ALLOCREPLAY_HANG_AT: '3000' } }, { ...opts, timeoutMs: 3000 });
    expect(r.status).toBe('timeout');
  });

  it('refuses a hostile plan cleanly', async () => {
    const { copyFileSync, readFileSync, writeFileSync } = await import('node:fs');
    const plan = planFor(rm);
    const bad = join(dir, 'bad.plan');
    copyFileSync(plan.planPath, bad);
    const b = readFileSync(bad);
    const { header, rec } = PLAN_LAYOUT;
    b.writeUInt32LE(0xffffff, header.bytes + rec.bytes * 10 + rec.obj); // object id far out of range
    writeFileSync(bad, b);
    const r = await runReplay({ ...plan, planPath: bad }, resolveTarget('system'), opts);
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/object id out of range \(at 10\)/);
  });
});

describe('allocreplay replay', () => {
  it('runs every target even when one crashes or hangs, and reports each status', () => {
    const db = join(dir, 'cmd.sqlite');
    const r = cli(['replay', rm, '-t', 'system', '-t', fixture('crash_nth'), '-t', 'jemalloc', '--repeat', '2', '--timeout', '20', '--db', db, '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(out.map((o) => o.status)).toEqual(['ok', 'crashed', 'ok']);
    expect(out[1]).toMatchObject({ signal: 'SIGSEGV' });
    expect(out[0]!.nsPerOp).toBeGreaterThan(0);
    expect(out[0]!.peakRssKiB).toBeGreaterThan(0);
    const rows = new Database(db, { readonly: true }).prepare('SELECT status, count(*) n FROM runs GROUP BY status ORDER BY status').all();
    expect(rows).toEqual([{ status: 'crashed', n: 1 }, { status: 'ok', n: 2 }]);
  });

  it('SIGKILL mid-run leaves an intact database and no partial run', async () => {
    const db = join(dir, 'kill.sqlite');
    const child = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), 'replay', rm, '-t', 'system', '-t', 'jemalloc', '-t', 'mimalloc', '-t', 'tcmalloc', '--metric', 'instructions', '--db', db], { stdio: 'ignore' });
    const closed = new Promise((res) => child.on('close', res));
    // Kill once the first run is stored and the next is under way.
    const { existsSync } = await import('node:fs');
    for (let i = 0; i < 600; i++) {
      await new Promise((res) => setTimeout(res, 100));
      if (!existsSync(db)) continue;
      // The file exists a moment before its tables do.
      let n = 0;
      try {
        const probe = new Database(db, { readonly: true });
        n = (probe.prepare('SELECT count(*) n FROM runs').get() as { n: number }).n;
        probe.close();
      } catch {
        n = 0;
      }
      if (n >= 1) break;
    }
    child.kill('SIGKILL');
    await closed;
    const d = new Database(db);
    expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
    const partial = d.prepare(`SELECT r.id FROM runs r LEFT JOIN samples s ON s.run_id = r.id WHERE r.status = 'ok' GROUP BY r.id HAVING count(s.rep) <> 1`).all();
    expect(partial).toEqual([]);
    const runs = (d.prepare('SELECT count(*) n FROM runs').get() as { n: number }).n;
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThan(4);
    d.close();
  });
});

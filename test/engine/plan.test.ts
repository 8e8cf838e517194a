/**
 * Replay plans: the layout both sides of the TS/C boundary agree on, plans
 * keyed by the checksum of the content read (never the footer's claim), the
 * plan cache's LRU cap and `allocreplay cache info|prune`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { beforeEach, describe, expect, it } from 'vitest';
import { PLAN_LAYOUT, planFor, planSections, resolveTarget, runReplay } from '../../engine/index.js';
import { compileNative, generate, Op, readEvents, TraceWriter } from '../../traces/index.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const opts = { mode: 'serial', touch: 'none', repeat: 1, warmup: 0, metric: 'time', timeoutMs: 60_000 } as const;

let cache: string;
beforeEach(() => {
  cache = tempDir('allocreplay-cache-');
  process.env.ALLOCREPLAY_CACHE = cache;
  delete process.env.ALLOCREPLAY_CACHE_MAX;
});

const plans = (): string[] => readdirSync(join(cache, 'plans')).filter((f) => f.endsWith('.plan')).sort();

describe('plan layout', () => {
  it('engine/plan/layout.ts agrees with engine/native/plan.h, field by field', () => {
    const probe = compileNative({ name: 'plan-layout-probe', sources: [join(ROOT, 'test/engine/probes/plan_layout.c')], deps: [join(ROOT, 'engine/native/plan.h')] });
    const c = Object.fromEntries(
      execFileSync(probe, { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)] as [string, string]),
    );
    const L = PLAN_LAYOUT;
    const ts: Record<string, string> = {
      magic: L.magic,
      version: String(L.version),
      maxThreads: String(L.maxThreads),
      ...Object.fromEntries(Object.entries(L.header).map(([k, v]) => [`header.${k}`, String(v)])),
      ...Object.fromEntries(Object.entries(L.gap).map(([k, v]) => [`gap.${k}`, String(v)])),
      ...Object.fromEntries(Object.entries(L.slot).map(([k, v]) => [`slot.${k}`, String(v)])),
      ...Object.fromEntries(Object.entries(L.rec).map(([k, v]) => [`rec.${k}`, String(v)])),
      ...Object.fromEntries(Object.entries(L.op).map(([k, v]) => [`op.${k}`, String(v)])),
      // What the planner writes into each record field must fit: 32-bit sizes (wider ones go to wide[]), 16-bit threads, 32-bit ids.
      'rec.sizeBits': '32',
      'rec.threadBits': '16',
      'rec.objBits': '32',
      ...Object.fromEntries(
        [[0, 0, 0, 0], [1, 1, 1, 0], [3, 0, 3, 5], [5, 5, 5, 2], [7, 7, 0, 1], [2, 0, 0, 3]].map(([n, g, s, w], k) => {
          const at = planSections(n!, g!, s!, w!);
          return [`sections.${k}`, [at.recs, at.gap, at.slot, at.wide, at.end].join(' ')];
        }),
      ),
    };
    expect(c).toEqual(ts);
  });
});

describe('plans and the plan cache', () => {
  it('a file holding only another trace\'s header and footer is never planned under that trace', () => {
    const dir = tempDir();
    const a = join(dir, 'a.trace.msgpack');
    generate('random-mixed', { slots: 64, ops: 5000, seed: 1 }, a);
    const items: unknown[] = [];
    new Unpackr({ useRecords: false, mapsAsObjects: true }).unpackMultiple(readFileSync(a), (v: unknown) => void items.push(v));
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const fake = join(dir, 'fake.trace.msgpack');
    writeFileSync(fake, Buffer.concat([packr.pack(items[0]), packr.pack(items.at(-1))]));
    const good = planFor(a);
    expect(() => planFor(fake)).toThrow(/fake\.trace\.msgpack: bad checksum/);
    expect(plans()).toEqual([good.planPath.split('/').pop()]);
    const r = cli(['replay', fake, '--target', 'system'], { env: { ALLOCREPLAY_CACHE: cache } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad checksum/);
  });

  it('a plan is reused, and rebuilt when its metadata is damaged; replay of it is ok', async () => {
    const dir = tempDir();
    const a = join(dir, 'a.trace.msgpack');
    generate('larson', { threads: 3, ops: 20_000, seed: 2 }, a);
    const first = planFor(a);
    expect(planFor(a)).toEqual(first);
    writeFileSync(`${first.planPath}.json`, '{"ops": 1');
    expect(planFor(a)).toEqual(first);
    expect(first.liveBytesAt).toHaveLength(99);
    for (const mode of ['serial', 'threads'] as const) {
      const r = await runReplay(first, resolveTarget('system'), { ...opts, mode });
      expect(r.status).toBe('ok');
      expect(r.checks).toMatchObject({ nulls: 0, leaked: 0, doubleFreed: 0 });
    }
  });

  it('ALLOCREPLAY_CACHE_MAX evicts the least recently used plan; cache info and prune', () => {
    const dir = tempDir();
    const traces = [1, 2, 3].map((seed) => {
      const p = join(dir, `t${seed}.trace.msgpack`);
      generate('random-mixed', { slots: 64, ops: 20_000, seed }, p);
      return p;
    });
    const [p1, p2, p3] = traces.map((t) => planFor(t).planPath);
    const each = readFileSync(p1!).length;
    // Make the order of use unambiguous: 1 oldest, then 3, then 2 most recent.
    utimesSync(p1!, 1000, 1000);
    utimesSync(p3!, 2000, 2000);
    utimesSync(p2!, 3000, 3000);
    planFor(traces[0]!); // a hit: plan 1 becomes the most recent
    process.env.ALLOCREPLAY_CACHE_MAX = String(Math.floor(each * 2.5));
    const t4 = join(dir, 't4.trace.msgpack');
    generate('random-mixed', { slots: 64, ops: 20_000, seed: 4 }, t4);
    const p4 = planFor(t4).planPath;
    // 4 plans of about `each` bytes under a 2.5× cap: the two least recently used (3, then 2) go.
    expect(plans()).toEqual([p1!, p4].map((p) => p.split('/').pop()).sort());
    const env = { ALLOCREPLAY_CACHE: cache, ALLOCREPLAY_CACHE_MAX: String(each * 10) };
    const info = JSON.parse(cli(['cache', 'info', '--json'], { env }).stdout);
    expect(info).toMatchObject({ plans: 2, maxBytes: each * 10 });
    expect(info.bytes).toBeGreaterThan(2 * each);
    const pruned = JSON.parse(cli(['cache', 'prune', '--all', '--json'], { env }).stdout);
    expect(pruned).toMatchObject({ removed: 2 });
    expect(plans()).toEqual([]);
    const bad = cli(['cache', 'info'], { env: { ALLOCREPLAY_CACHE: cache, ALLOCREPLAY_CACHE_MAX: 'lots' } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/ALLOCREPLAY_CACHE_MAX: 'lots' is not a size/);
  });
});

describe('plans of another version', () => {
  it('are removed once unused for an hour, and are neither counted nor used before', () => {
    const dir = tempDir();
    const t = join(dir, 't.trace.msgpack');
    generate('random-mixed', { slots: 64, ops: 5000, seed: 9 }, t);
    const folder = join(cache, 'plans');
    mkdirSync(folder, { recursive: true });
    const old = PLAN_LAYOUT.version - 1;
    const planted = (name: string, ageS: number): string => {
      const path = join(folder, name);
      writeFileSync(path, 'x'.repeat(4096));
      const at = Date.now() / 1000 - ageS;
      utimesSync(path, at, at);
      return name;
    };
    const stale = [planted(`${'a'.repeat(64)}-v${old}.plan`, 7200), planted(`${'a'.repeat(64)}-v${old}.plan.json`, 7200)];
    // The metadata's own mtime is old; its plan, just used, keeps it.
    const recent = [planted(`${'b'.repeat(64)}-v${old}.plan`, 60), planted(`${'b'.repeat(64)}-v${old}.plan.json`, 7200)];
    const mine = planFor(t).planPath.split('/').pop()!;
    const left = readdirSync(folder).sort();
    expect(left).toEqual([...recent, mine, `${mine}.json`].sort());
    for (const name of stale) expect(left).not.toContain(name);
    const info = JSON.parse(cli(['cache', 'info', '--json'], { env: { ALLOCREPLAY_CACHE: cache } }).stdout);
    expect(info.plans).toBe(1);
  });
});

describe('the live-bytes series', () => {
  /** Live bytes after each op the plan keeps, from the events (the oracle). */
  function expected(path: string): number[] {
    const sizes = new Map<number, number>();
    let live = 0;
    const out: number[] = [];
    for (const e of readEvents(path)) {
      const failed = e.object === 0 && e.op !== Op.free && e.op !== Op.thread_exit;
      if (failed && !(e.op === Op.realloc && e.size === 0)) continue;
      if (e.op === Op.free && e.object) live -= sizes.get(e.object)!;
      if (e.op === Op.realloc && e.arg) live -= sizes.get(e.arg)!;
      if (e.object && e.op !== Op.free) {
        const b = e.op === Op.calloc ? e.size * e.arg : e.size;
        sizes.set(e.object, b);
        live += b;
      }
      out.push(live);
    }
    return out;
  }

  it('matches the driver\'s sample points, with and without failed allocations left out', () => {
    const dir = tempDir();
    const a = join(dir, 'a.trace.msgpack');
    generate('random-mixed', { slots: 64, ops: 12_345, seed: 9 }, a);
    const b = join(dir, 'b.trace.msgpack');
    const w = TraceWriter.open(b, { producer: { kind: 'generate', name: 'test' } });
    for (let i = 0; i < 5000; i++) {
      w.push(Op.malloc, 0, i + 1, 16 + i, 0);
      if (i % 7 === 0) w.push(Op.malloc, 0, 0, 2 ** 50, 0); // failed: left out of the plan
    }
    w.close();
    for (const p of [a, b]) {
      const plan = planFor(p);
      const live = expected(p);
      expect(plan.ops).toBe(live.length);
      const want: number[] = [];
      for (let i = plan.sampleEvery; i < plan.ops && want.length < 100; i += plan.sampleEvery) want.push(live[i]!);
      expect(plan.liveBytesAt).toEqual(want);
    }
  });
});

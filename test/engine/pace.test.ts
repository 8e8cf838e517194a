/**
 * pace=recorded (the program's work between calls, from the trace's time)
 * and touch=program: exact and repeatable instruction counts, a plan section
 * that carries the recorded time, threads mode, and configurations that name
 * the new options only when they are not their defaults.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLAN_LAYOUT, planFor, planSections, type ReplayOptions, resolveTarget, runReplay } from '../../engine/index.js';
import { openStore, selectRuns } from '../../reports/index.js';
import { generate, openTrace, programTime, readEvents, TraceWriter } from '../../traces/index.js';
import { cli, tempDir } from '../helpers.js';

const dir = tempDir();
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const rm = join(dir, 'rm.trace.msgpack');
const rmTimed = join(dir, 'rm-timed.trace.msgpack');
const larsonTimed = join(dir, 'larson-timed.trace.msgpack');

/** Gap (ns) the crafted clock advances before stamped event i. */
const gapAt = (i: number): number => 64 * (200 + (i % 7) * 50);

/**
 * A copy of `src` with a time column stamped as the recorder stamps it:
 * every 64th event carries the time since the previous stamp, the others 0.
 * Returns the total recorded ns.
 */
function withTime(src: string, dst: string): number {
  const r = openTrace(src);
  const w = TraceWriter.open(dst, { producer: { kind: 'record', name: 'record', command: ['crafted'] }, hasTime: true });
  let clock = 0;
  let n = 0;
  for (const c of r.chunks())
    for (let i = 0; i < c.length; i++, n++) {
      if (n % 64 === 63) clock += gapAt(n);
      w.push(c.op[i]!, c.thread[i]!, c.object[i]!, c.size[i]!, c.arg[i]!, clock);
    }
  w.close();
  return clock;
}

let total = 0;
beforeAll(() => {
  process.env.ALLOCREPLAY_CACHE = env.ALLOCREPLAY_CACHE;
  generate('random-mixed', { ops: 40_000, slots: 512, seed: 5 }, rm);
  total = withTime(rm, rmTimed);
  const larson = join(dir, 'larson.trace.msgpack');
  generate('larson', { ops: 100_000, threads: 4 }, larson);
  withTime(larson, larsonTimed);
});

const base: ReplayOptions = { mode: 'serial', touch: 'none', repeat: 1, warmup: 0, metric: 'instructions', timeoutMs: 120_000 };
const count = async (trace: string, o: Partial<ReplayOptions>): Promise<number> => {
  const r = await runReplay(planFor(trace), resolveTarget('system'), { ...base, ...o });
  expect(r.status, r.error).toBe('ok');
  return r.samples[0]!.instructions!;
};

describe('the plan carries the recorded time', () => {
  it('one gap per op for a trace with time, summing to its recorded ns; none without', () => {
    const { header: H, gap: G } = PLAN_LAYOUT;
    const timed = readFileSync(planFor(rmTimed).planPath);
    const nops = Number(timed.readBigUInt64LE(H.nops));
    expect(Number(timed.readBigUInt64LE(H.ngaps))).toBe(nops);
    const { gap } = planSections(nops, nops, timed.readUInt32LE(H.nslotOps), Number(timed.readBigUInt64LE(H.nwide)));
    let sum = 0;
    for (let at = gap; at < gap + nops * G.bytes; at += G.bytes) sum += timed.readUInt32LE(at);
    expect(sum).toBe(total);
    const plain = readFileSync(planFor(rm).planPath);
    expect(Number(plain.readBigUInt64LE(H.ngaps))).toBe(0);
  });
});

describe("the program's own time in a recording", () => {
  it('is each window between stamps less the cheapest cost per call; none without time', () => {
    const t = programTime(rmTimed)!;
    expect(t.recordedNs).toBe(total);
    // Windows of 64 calls span 64 × 200 … 500 ns: the cheapest, 200 ns a call, is taken as the calls' own cost.
    expect(t.callNs).toBe(200);
    // The first window holds the 63 calls after the first event (the clock starts there), the others 64 each.
    let expected = 0;
    const events = readEvents(rm).length;
    for (let n = 63; n < events; n += 64) expected += gapAt(n) - 200 * (n === 63 ? 63 : 64);
    expect(t.programNs).toBe(expected);
    expect(t.windows).toBe(Math.floor((events - 63 + 63) / 64));
    expect(programTime(rm)).toBeUndefined();
  });
});

describe('pace=recorded', () => {
  it('counts the same instructions twice, more than unpaced, and more with a larger scale', async () => {
    const none = await count(rmTimed, {});
    const a = await count(rmTimed, { pace: 'recorded', paceScale: 20 });
    const b = await count(rmTimed, { pace: 'recorded', paceScale: 20 });
    const c = await count(rmTimed, { pace: 'recorded', paceScale: 40 });
    expect(b).toBe(a);
    // 20 units per µs of the crafted time: at least a few instructions each.
    expect(a - none).toBeGreaterThan((total / 1000) * 20 * 3);
    expect(c).toBeGreaterThan(a);
  });

  it('does no work for a trace without time: exactly the instructions of pace=none', async () => {
    expect(await count(rm, { pace: 'recorded' })).toBe(await count(rm, {}));
  });

  it('works in threads mode: every worker paces over its own blocks, every object freed once', async () => {
    for (const t of ['system', 'jemalloc']) {
      const r = await runReplay(planFor(larsonTimed), resolveTarget(t), { ...base, mode: 'threads', metric: 'time', repeat: 2, warmup: 1, pace: 'recorded', paceScale: 20, touch: 'program' });
      expect(r.status, r.error).toBe('ok');
      expect(r.checks).toEqual({ nulls: 0, misaligned: 0, shortUsable: 0, leaked: 0, doubleFreed: 0 });
    }
  });
});

describe('touch=program', () => {
  it('counts the same instructions twice, more than touch=none, and combines with pacing', async () => {
    const none = await count(rmTimed, {});
    const a = await count(rmTimed, { touch: 'program' });
    expect(await count(rmTimed, { touch: 'program' })).toBe(a);
    expect(a).toBeGreaterThan(none);
    const both = await count(rmTimed, { touch: 'program', pace: 'recorded', paceScale: 20 });
    expect(both).toBe(await count(rmTimed, { touch: 'program', pace: 'recorded', paceScale: 20 }));
    expect(both).toBeGreaterThan(a);
  });
});

describe('configurations and flags', () => {
  type Out = { configHash: string; configuration: string; identity: { options: Record<string, unknown> } }[];
  const replay = (db: string, ...flags: string[]): Out => {
    // touch named, so that only pace is left to the defaults.
    const r = cli(['replay', rmTimed, '-t', 'system', '--repeat', '1', '--db', db, '--json', '--touch', 'none', ...flags], { env });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Out;
  };

  it('pace appears in the configuration only when it is not none; selectors find both', () => {
    const db = join(dir, 'pace.sqlite');
    const plain = replay(db, '--pace', 'none')[0]!;
    expect(plain.identity.options).toEqual({ mode: 'serial', touch: 'none', warmup: 1 });
    const paced = replay(db, '--pace', 'recorded')[0]!;
    // With no --pace-scale, a recorded trace is paced at the scale calibrated for it on this machine (measured once, kept).
    const calibrated = openStore(db, { readonly: true });
    const kept = calibrated.db.prepare('SELECT scale FROM pace_calibrations').all() as { scale: number }[];
    calibrated.close();
    expect(kept).toHaveLength(1);
    const k = kept[0]!.scale;
    expect(paced.identity.options).toEqual({ mode: 'serial', touch: 'none', warmup: 1, pace: 'recorded', paceScale: k });
    // A recorded trace with pace left open is paced by default: the same configuration as pace given explicitly.
    expect(replay(db)[0]!.configHash).toBe(paced.configHash);
    expect(replay(db, '--pace', 'recorded', '--pace-scale', String(k))[0]!.configHash).toBe(paced.configHash);
    const scaled = replay(db, '--pace', 'recorded', '--pace-scale', String(k === 7 ? 8 : 7))[0]!;
    expect(scaled.configHash).not.toBe(paced.configHash);
    const store = openStore(db, { readonly: true });
    try {
      const hashes = (sel: string): string[] => [...new Set(selectRuns(store, sel).runs.map((r) => r.configHash))].sort();
      expect(hashes('pace=none')).toEqual([plain.configHash]);
      expect(hashes('pace=recorded')).toEqual([paced.configHash, scaled.configHash].sort());
      expect(hashes(`pace_scale=${k === 7 ? 8 : 7}`)).toEqual([scaled.configHash]);
      const labels = store.db.prepare('SELECT label FROM configurations ORDER BY id').all() as { label: string }[];
      expect(labels[0]!.label).not.toMatch(/pace/);
      expect(labels[1]!.label).toContain(` touch=none warmup=1 pace=recorded pace_scale=${k} machine=`);
      expect(labels[2]!.label).toContain(` pace=recorded pace_scale=${k === 7 ? 8 : 7} `);
    } finally {
      store.close();
    }
  });

  it('--pace-scale without --pace recorded is a usage error', () => {
    const r = cli(['replay', rmTimed, '--pace-scale', '5', '--db', join(dir, 'bad.sqlite')], { env });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--pace-scale applies only with --pace recorded/);
  });
});

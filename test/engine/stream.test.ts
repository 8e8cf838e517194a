/**
 * The streamed plan (engine/native/stream.c): a serial replay's memory does
 * not grow with the trace, the streamed form counts the same instructions as
 * the expanded one, and the driver's debug build (its invariants checked,
 * engine/native/ar_assert.h) gives clean results or clean refusals over the
 * fuzz corpus and over damaged plans.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { callgrindTotal, driverPath, parseDriverOutput, PLAN_LAYOUT, planFor, planSections, resolveTarget, runReplay } from '../../engine/index.js';
import { compileNative, generate, Op, Prng, TraceWriter, validateTrace } from '../../traces/index.js';
import { CORPUS_SEED, corpusBases, writeCase } from '../fuzz/corpus.js';
import { ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const short = join(dir, 'hot-short.trace.msgpack');
const long = join(dir, 'hot-long.trace.msgpack');
const rm = join(dir, 'rm.trace.msgpack');
const larson = join(dir, 'larson.trace.msgpack');
const crowd = join(dir, 'crowd.trace.msgpack');

/** Small chunks and no expanding, so that traces of a test's size stream through many refills. */
const SMALL_WINDOW = ['--chunk-ops', '1024', '--expand-max', '0'];

/**
 * A large live set: 1.6M mallocs, frees and reallocs of random live objects, about 200,000 of them live
 * from the first quarter on, and live at the end (left for the driver to free).
 */
function crowdTrace(path: string): void {
  const w = TraceWriter.open(path, { producer: { kind: 'generate', name: 'test' } });
  const rng = new Prng(5);
  const live: number[] = [];
  let next = 1;
  for (let i = 0; i < 1_600_000; i++) {
    const k = rng.below(Math.max(1, live.length));
    if (live.length > 200_000 || (live.length && rng.chance(i < 400_000 ? 0.1 : 0.45))) {
      w.push(Op.free, 0, live[k]!, 0, 0);
      live[k] = live[live.length - 1]!;
      live.pop();
    } else if (live.length && rng.chance(0.1)) {
      w.push(Op.realloc, 0, next, 16 + rng.below(400), live[k]!);
      live[k] = next++;
    } else {
      w.push(Op.malloc, 0, next, 16 + rng.below(200), 0);
      live.push(next++);
    }
  }
  w.close();
}

beforeAll(() => {
  process.env.ALLOCREPLAY_CACHE = join(dir, 'cache');
  // tiny-hot: one or two objects live at a time, however long the trace.
  generate('tiny-hot', { ops: 400_000 }, short);
  generate('tiny-hot', { ops: 1_600_000 }, long);
  generate('random-mixed', { ops: 30_000, slots: 300, seed: 9 }, rm);
  generate('larson', { ops: 30_000, threads: 3, seed: 2 }, larson);
  crowdTrace(crowd);
});

interface DriverResult {
  status: string;
  error?: string;
  signal?: number;
  op?: number;
  /** The driver's own peak resident set (its VmHWM; ru_maxrss also holds the forking parent's). */
  vm_hwm_kib?: number;
  checks?: Record<string, number>;
  plan?: { form: string; chunks?: number; slots?: number; refills?: number; refill_ns?: number };
  /** The process's exit status and stderr, for the invariant check. */
  exit: number | null;
  stderr: string;
}

/** Runs the driver on a plan with its result on stdout (the system allocator writes nothing there). */
function drive(plan: string, args: string[], o: { debug?: boolean; valgrind?: string; env?: Record<string, string> } = {}): DriverResult {
  const driver = driverPath(o.debug);
  const base = [plan, '--result-fd', '1', '--samples', '0', '--sample-every', '1', '--repeat', '1', '--warmup', '1', ...args];
  const [cmd, argv] = o.valgrind ? ['valgrind', ['--tool=callgrind', '--collect-atstart=no', `--callgrind-out-file=${o.valgrind}`, '--quiet', driver, ...base]] : [driver, base];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...o.env }, timeout: 120_000 });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  let parsed: Partial<DriverResult> = { status: 'no result' };
  try {
    parsed = JSON.parse(last) as DriverResult;
  } catch {
    // kept as 'no result'; the caller's expectation names the output
  }
  return { status: 'no result', ...parsed, exit: r.status, stderr: r.stderr };
}

const hwm = (r: DriverResult): number => r.vm_hwm_kib ?? Number.NaN;

describe('a streamed plan', () => {
  it('keeps a replay in memory that does not grow with the trace, far below the expanded plan', () => {
    const a = drive(planFor(short).planPath, SMALL_WINDOW);
    const b = drive(planFor(long).planPath, SMALL_WINDOW);
    const expanded = drive(planFor(long).planPath, ['--plan', 'expanded']);
    for (const r of [a, b, expanded]) expect(r.status, r.error).toBe('ok');
    expect(b.plan).toMatchObject({ form: 'streamed', slots: 2 });
    expect(b.plan!.chunks).toBeGreaterThan(1000);
    // Four times the trace, the same memory (page rounding aside).
    expect(hwm(b)).toBeLessThanOrEqual(hwm(a) + 1024);
    // The expanded ops alone: 24 bytes per op.
    const opsKiB = (planFor(long).ops * PLAN_LAYOUT.op.bytes) / 1024;
    expect(hwm(b)).toBeLessThan(opsKiB / 8);
    expect(hwm(expanded)).toBeGreaterThan(opsKiB);
  });

  it('streams a long trace with a large live set, with the checks of the expanded plan', () => {
    const plan = planFor(crowd).planPath;
    const expanded = drive(plan, ['--plan', 'expanded']);
    expect(expanded.status, expanded.error).toBe('ok');
    for (const debug of [false, true]) {
      const streamed = drive(plan, SMALL_WINDOW, { debug });
      expect({ status: streamed.status, exit: streamed.exit, form: streamed.plan?.form }).toEqual({ status: 'ok', exit: 0, form: 'streamed' });
      expect(streamed.stderr).not.toMatch(/invariant broken/);
      expect(streamed.plan!.slots).toBeGreaterThan(150_000);
      expect(streamed.plan!.chunks).toBeGreaterThan(1500);
      // Objects live at the end are freed after each repetition by their slots: counted as leaked once.
      expect(expanded.checks!.leaked).toBeGreaterThan(150_000);
      expect(streamed.checks).toEqual(expanded.checks);
      // Every chunk but the first of each of the two repetitions is a refill.
      expect(streamed.plan!.refills).toBe(2 * (streamed.plan!.chunks! - 1));
      if (!debug) console.log(`large live set, streamed: ${streamed.plan!.chunks} chunks, ${streamed.plan!.refill_ns} ns of refills`);
    }
  });

  it('is expanded by default while the expanded ops fit the budget, streamed beyond it', () => {
    const plan = planFor(long);
    const opsBytes = plan.ops * PLAN_LAYOUT.op.bytes;
    const window = ['--chunk-ops', '1024'];
    const form = (max: number): string | undefined => drive(plan.planPath, [...window, '--expand-max', String(max)]).plan?.form;
    expect(drive(plan.planPath, window).plan?.form).toBe('expanded');
    expect(form(opsBytes)).toBe('expanded');
    expect(form(opsBytes - 1)).toBe('streamed');
  });

  it('gives the checks of the expanded plan, in every touch and pace mode, release and debug builds', () => {
    const plan = planFor(rm).planPath;
    for (const mode of [[], ['--touch', 'first'], ['--touch', 'all'], ['--touch', 'program', '--pace', 'recorded']]) {
      const expanded = drive(plan, ['--plan', 'expanded', ...mode]);
      for (const debug of [false, true]) {
        const streamed = drive(plan, [...SMALL_WINDOW, ...mode], { debug });
        expect({ status: streamed.status, exit: streamed.exit, form: streamed.plan?.form }).toEqual({ status: 'ok', exit: 0, form: 'streamed' });
        expect(streamed.checks).toEqual(expanded.checks);
      }
    }
  });

  it('counts the same instructions as the expanded plan under callgrind, touch and pace modes included', () => {
    const plan = planFor(rm).planPath;
    const out = join(dir, 'callgrind.out');
    for (const mode of [[], ['--touch', 'first'], ['--touch', 'program'], ['--touch', 'program', '--pace', 'recorded']]) {
      const counts = ['expanded', 'stream'].map((form) => {
        // One chunk as long as the plan: the streamed form's loops and tables, no refill (the handler's own instructions stay out).
        const r = drive(plan, ['--plan', form, '--chunk-ops', '32768', ...mode], { valgrind: out });
        expect(r.status, r.error).toBe('ok');
        expect(r.plan?.form).toBe(form === 'stream' ? 'streamed' : 'expanded');
        return callgrindTotal(out);
      });
      expect(counts[0]).toBeGreaterThan(0);
      expect(counts[1]).toBe(counts[0]);
    }
  });
});

describe('a crash in a streamed replay', () => {
  it('is reported with its signal and op index, the same as from the expanded plan', () => {
    const lib = compileNative({ name: 'fixture-crash_nth.so', sources: [join(ROOT, 'test/fixtures/allocators/crash_nth.c')], shared: true });
    // The 20000th malloc: in the measured repetition, past the first chunks of the window.
    const env = { LD_PRELOAD: lib, ALLOCREPLAY_CRASH_AT: '20000' };
    const plan = planFor(rm).planPath;
    const streamed = drive(plan, SMALL_WINDOW, { env, debug: true });
    const expanded = drive(plan, ['--plan', 'expanded'], { env });
    expect({ status: streamed.status, signal: streamed.signal }).toEqual({ status: 'crashed', signal: 11 });
    expect(streamed.op).toBeGreaterThan(2 * 1024);
    expect(streamed.op).toBe(expanded.op);
    expect(streamed.stderr).not.toMatch(/invariant broken/);
  });
});

describe('a replay reports how it held its plan', () => {
  it('a streamed one with its refills, an expanded one without; malformed figures are a reason', async () => {
    const opts = { mode: 'serial', touch: 'none', repeat: 1, warmup: 0, metric: 'time', timeoutMs: 120_000 } as const;
    // The long trace's plan is small enough to expand: ALLOCREPLAY_EXPAND_MAX=0 streams it.
    process.env.ALLOCREPLAY_EXPAND_MAX = '0';
    const streamed = await runReplay(planFor(long), resolveTarget('system'), opts).finally(() => delete process.env.ALLOCREPLAY_EXPAND_MAX);
    expect(streamed.status, streamed.error).toBe('ok');
    expect(streamed.refills).toEqual({ count: expect.any(Number), ns: expect.any(Number) });
    expect(streamed.refills!.count).toBeGreaterThan(0);
    const expanded = await runReplay(planFor(rm), resolveTarget('system'), opts);
    expect(expanded.status, expanded.error).toBe('ok');
    expect(expanded.refills).toBeUndefined();
    process.env.ALLOCREPLAY_EXPAND_MAX = 'lots';
    await expect(runReplay(planFor(rm), resolveTarget('system'), opts).finally(() => delete process.env.ALLOCREPLAY_EXPAND_MAX)).rejects.toThrow(/ALLOCREPLAY_EXPAND_MAX=lots: expected a whole number of bytes/);
    const ok = '{"status":"ok","reps":[],"checks":{"nulls":0,"misaligned":0,"short_usable":0,"leaked":0,"double_freed":0}';
    expect(parseDriverOutput(`${ok},"plan":{"form":"streamed","refills":1}}`)).toBe("the driver's plan figures are malformed");
    expect(parseDriverOutput(`${ok},"plan":{"form":"streamed","refills":1,"refill_ns":5}}`)).toMatchObject({ status: 'ok' });
  });
});

describe('the debug driver', () => {
  it('replays the fuzz corpus cleanly, serial (streamed and expanded) and threads, with no invariant broken', () => {
    const rng = new Prng(CORPUS_SEED);
    const bases = corpusBases(dir);
    let replayed = 0;
    for (let k = 0; k < 300; k++) {
      const p = join(dir, `case${k}.trace.msgpack`);
      writeCase(p, bases, k, rng);
      try {
        if (!validateTrace(p).footer) continue;
      } catch {
        continue; // refused by the reader: never planned
      }
      const plan = planFor(p);
      for (const args of [['--plan', 'stream'], ['--plan', 'expanded'], ['--mode', 'threads']]) {
        if (args[1] === 'threads' && plan.threads > 16) continue;
        const r = drive(plan.planPath, args, { debug: true });
        expect(r.stderr).not.toMatch(/invariant broken/);
        // ok, or NULL for a size the recording got (2^53 − 1 bytes): the allocator's answer.
        expect({ k, args, status: r.status, error: r.error }).toEqual({ k, args, status: 'ok', error: undefined });
        replayed++;
      }
    }
    expect(replayed).toBeGreaterThan(100);
  });

  it('refuses slots that do not follow the objects, and streams no plan without slots', () => {
    const good = readFileSync(planFor(rm).planPath);
    const { header: H, rec: R, slot: S } = PLAN_LAYOUT;
    const n = Number(good.readBigUInt64LE(H.nops));
    const ngaps = Number(good.readBigUInt64LE(H.ngaps));
    const nwide = Number(good.readBigUInt64LE(H.nwide));
    const at = planSections(n, ngaps, n, nwide);
    const slotAt = at.slot;
    const first = (op: number): number => [...Array(n).keys()].find((i) => good[H.bytes + i * R.bytes + R.op] === op)!;
    const stream = (edit: (b: Buffer) => Buffer, args = ['--plan', 'stream', ...SMALL_WINDOW]): DriverResult => {
      const path = join(dir, 'slots.plan');
      writeFileSync(path, edit(Buffer.from(good)));
      return drive(path, args, { debug: true });
    };
    const slot = (i: number, v: number) => (b: Buffer): Buffer => (b.writeUInt32LE(v, slotAt + i * S.bytes), b);
    const free = first(Op.free);
    const nslots = good.readUInt32LE(H.nslots);
    const refusals = [
      stream(slot(free, good.readUInt32LE(slotAt + free * S.bytes) === 1 ? 2 : 1)),
      stream(slot(first(Op.malloc), nslots)),
      stream(slot(0, 0)),
      stream((b) => (b.writeUInt32LE(nslots + 1, H.nslots), b)),
    ].map((r) => r.error);
    expect(refusals).toEqual([
      expect.stringMatching(/^bad plan: (end of an object not in its slot|object made into a taken slot) \(at \d+\)$/),
      expect.stringMatching(/^bad plan: slot out of range/),
      expect.stringMatching(/^bad plan: object in the NULL slot \(at 0\)$/),
      expect.stringMatching(/^bad plan: slot count is not the peak live set \+ 1/),
    ]);
    // Without its slot section (as the planner leaves a plan of 2^32 − 1 ops or more), a plan is expanded, never streamed.
    const unslotted = (b: Buffer): Buffer => {
      const without = planSections(n, ngaps, 0, nwide);
      const c = Buffer.alloc(without.end);
      b.copy(c, 0, 0, at.slot);
      b.copy(c, without.wide, at.wide, at.end);
      c.writeUInt32LE(0, H.nslots);
      c.writeUInt32LE(0, H.nslotOps);
      c.writeBigUInt64LE(BigInt(without.end), H.fileBytes);
      return c;
    };
    expect(stream(unslotted).error).toMatch(/^bad plan: plan has no slots to stream/);
    const auto = stream(unslotted, SMALL_WINDOW);
    expect({ status: auto.status, form: auto.plan?.form }).toEqual({ status: 'ok', form: 'expanded' });
  });

  it('refuses damaged plans cleanly or replays them, never breaking an invariant', () => {
    const good = readFileSync(planFor(larson).planPath);
    const rng = new Prng(7);
    const seen = new Set<string>();
    for (let k = 0; k < 120; k++) {
      const bad = Buffer.from(good);
      // Flip bytes in the records (most cases) or the header.
      for (let f = 0; f < 1 + rng.below(3); f++) {
        const at = rng.chance(0.85) ? PLAN_LAYOUT.header.bytes + rng.below(bad.length - PLAN_LAYOUT.header.bytes) : rng.below(PLAN_LAYOUT.header.bytes);
        bad[at] = bad[at]! ^ (1 << rng.below(8));
      }
      const path = join(dir, `bad${k}.plan`);
      writeFileSync(path, bad);
      for (const args of [['--plan', 'stream', ...SMALL_WINDOW], ['--plan', 'expanded']]) {
        const r = drive(path, args, { debug: true });
        expect(r.stderr).not.toMatch(/invariant broken/);
        // A validated plan reaches the allocator; the expanded form passes a free of a dead object on to it,
        // which glibc may stop with SIGABRT (a crash of the allocator, reported as such). The streamed form
        // refuses such a plan.
        const clean = r.status === 'ok' || (r.status === 'failed' && /^bad plan: /.test(r.error ?? '')) || (args[1] === 'expanded' && r.status === 'crashed');
        expect({ k, args, status: r.status, error: r.error, clean }).toMatchObject({ k, args, clean: true });
        seen.add(r.status);
      }
    }
    expect(seen).toContain('failed');
  });
});

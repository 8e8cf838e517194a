/**
 * Trace fuzzing (issue 11 item 6, traces): 2,400 structure-aware mutations
 * of generated traces — events, columns, header and footer fields, chunk
 * sizes, truncation — written with their checksum and footer counts
 * recomputed so the checks behind them are reached. Seeded: the same cases
 * every run. Asserts that the reader (validate, info) only ever accepts or
 * gives a one-line input error (never a TypeError, RangeError or stack
 * overflow), and that every accepted trace in a sample replays `ok` through
 * the real driver on the system allocator, in serial and threads mode.
 *
 * Time limits: each in-process batch has the test timeout below (a hang is
 * a failed test, not a stuck CI job); each replay has the driver's timeout.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFor, resolveTarget, runReplay } from '../../engine/index.js';
import { AllocreplayError, generate, Op, Prng, readEvents, type TraceEvent, traceInfo, validateTrace } from '../../traces/index.js';
import { cli, tempDir } from '../helpers.js';
import { type CraftOptions, type Stored, writeWithCounts } from '../traces/craft.js';

const CASES = 2400;
const BATCH = 100;
const SERIAL_REPLAYS = 120;
const THREAD_REPLAYS = 40;
const CLI_CASES = 10;

/** Stored form of semantic events (FORMAT.md, "Objects"): ids as distances from the next id. */
function toStored(events: TraceEvent[]): Stored[] {
  let next = 1;
  return events.map((e) => {
    let s: Stored;
    if (e.op === Op.free) s = [e.op, e.thread, e.object === 0 ? 0 : next - e.object, e.size, 0];
    else if (e.op === Op.thread_exit) s = [e.op, e.thread, 0, 0, 0];
    else s = [e.op, e.thread, e.object === 0 ? 1 : 0, e.size, e.op === Op.realloc ? (e.arg === 0 ? 0 : next - e.arg) : e.arg];
    if (e.op !== Op.free && e.op !== Op.thread_exit && e.object !== 0) next++;
    return s;
  });
}

const SIZES = [0, 1, 7, 16, 4096, 65537, 2 ** 31, 2 ** 32 + 5, 2 ** 40, 2 ** 53 - 1, 2 ** 53, 2 ** 56 - 1];
const ALIGNS = [0, 1, 2, 3, 8, 16, 24, 4096, 2 ** 20, 2 ** 40];

interface Case {
  events: Stored[];
  opts: CraftOptions;
  /** Bytes to cut from the end, or a byte to flip, after writing. */
  cut?: number;
  flip?: number;
}

/** One to three mutations of a base trace, drawn from the seeded stream. */
function mutate(base: Stored[], rng: Prng): Case {
  const events = base.map((e) => [...e] as Stored);
  const c: Case = { events, opts: {} };
  const pick = (): number => rng.below(events.length);
  const rounds = 1 + rng.below(3);
  for (let r = 0; r < rounds && events.length > 0; r++) {
    const e = events[pick()]!;
    switch (rng.below(16)) {
      case 0: e[0] = rng.below(13); break;
      case 1: e[1] = rng.chance(0.9) ? rng.below(6) : [255, 65535, 65536, 2 ** 20][rng.below(4)]!; break;
      case 2: e[2] = rng.chance(0.5) ? rng.below(4) : rng.below(events.length + 4); break;
      case 3: e[3] = SIZES[rng.below(SIZES.length)]!; break;
      case 4: e[4] = rng.chance(0.5) ? ALIGNS[rng.below(ALIGNS.length)]! : rng.below(events.length + 4); break;
      case 5: events.splice(pick(), 1); break;
      case 6: { const i = pick(); events.splice(i, 0, [...events[i]!] as Stored); break; }
      case 7: { const i = pick(), j = pick(); [events[i], events[j]] = [events[j]!, events[i]!]; break; }
      case 8: events.splice(pick(), 0, [Op.thread_exit, rng.below(4), 0, 0, 0]); break;
      case 9: c.opts.chunkEvents = [7, 61, 100, 256][rng.below(4)]; break;
      case 10: c.opts.header = { ...c.opts.header, ...[{ chunkEvents: [-1, 0, 65537, 2 ** 32, '64', 1.5][rng.below(6)] }, { hasTime: rng.chance(0.5) ? 1 : true }, { version: [0, 2, '1'][rng.below(3)] }, { compression: 'zstd' }, { producer: [null, 'x', { kind: 'other', name: 'n' }, { kind: 'record', name: 7 }][rng.below(4)] }, { threadNames: [1] }][rng.below(6)] }; break;
      case 11: c.opts.footer = { ...c.opts.footer, ...[{ events: events.length + 1 }, { peakLiveBytes: -1 }, { checksum: [12345, 'abc', null][rng.below(3)] }, { objects: 2 ** 60 }, { threads: '1' }][rng.below(5)] }; break;
      case 12: c.opts.noFooter = true; break;
      case 13: c.cut = 1 + rng.below(64); break;
      case 14: c.flip = rng.below(1 << 30); break;
      default: e[2] = 0; e[0] = Op.free; break;
    }
  }
  if (rng.chance(0.15)) c.opts.hasTime = true;
  return c;
}

interface Outcome {
  accepted: string[];
  rejected: number;
  cutShort: number;
}

describe('trace fuzzing', () => {
  const dir = tempDir('allocreplay-fuzz-');
  const bases: Stored[][] = [];
  const outcome: Outcome = { accepted: [], rejected: 0, cutShort: 0 };
  const rng = new Prng(20261129);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(process.env.ALLOCREPLAY_CACHE!, { recursive: true, force: true });
  });

  beforeAll(() => {
    process.env.ALLOCREPLAY_CACHE = tempDir('allocreplay-cache-');
    const gens: [string, Record<string, number>][] = [
      ['random-mixed', { slots: 16, ops: 600, seed: 1 }],
      ['tiny-hot', { ops: 400, batch: 3 }],
      ['larson', { threads: 3, ops: 600, seed: 3 }],
      ['producer-consumer', { ops: 500, seed: 4 }],
      ['realloc-grow', { ops: 400 }],
    ];
    for (const [name, params] of gens) {
      const p = join(dir, `${name}.trace.msgpack`);
      generate(name, params, p);
      bases.push(toStored(readEvents(p)));
    }
  });

  /** Reads one mutated file through validate and info; anything but acceptance or an input error fails the test. */
  function check(path: string): 'accepted' | 'rejected' | 'cut-short' {
    let verdict: 'accepted' | 'rejected' | 'cut-short';
    try {
      verdict = validateTrace(path).footer ? 'accepted' : 'cut-short';
    } catch (e) {
      if (!(e instanceof AllocreplayError) || e.code !== 'input') throw new Error(`${path}: validate threw ${String(e)}`);
      verdict = 'rejected';
    }
    try {
      const info = traceInfo(path);
      if (verdict === 'rejected') throw new Error(`${path}: info accepted what validate refused`);
      if ((info.checksum === undefined) !== (verdict === 'cut-short')) throw new Error(`${path}: info and validate disagree on the footer`);
    } catch (e) {
      if (e instanceof AllocreplayError) {
        if (verdict !== 'rejected') throw new Error(`${path}: info refused what validate accepted: ${e.message}`);
      } else throw e;
    }
    return verdict;
  }

  for (let b = 0; b < CASES / BATCH; b++) {
    it(`mutated traces ${b * BATCH}…${(b + 1) * BATCH - 1}: accepted or a clean input error`, async () => {
      const { writeFileSync, readFileSync } = await import('node:fs');
      for (let k = b * BATCH; k < (b + 1) * BATCH; k++) {
        const c = mutate(bases[k % bases.length]!, rng);
        const p = join(dir, `case${k}.trace.msgpack`);
        writeWithCounts(p, c.events, c.opts);
        if (c.cut || c.flip !== undefined) {
          const bytes = readFileSync(p);
          if (c.flip !== undefined) bytes[c.flip % bytes.length] ^= 1 << (c.flip % 8);
          writeFileSync(p, c.cut ? bytes.subarray(0, Math.max(0, bytes.length - c.cut)) : bytes);
        }
        // Let the test runner's messages through between cases.
        if (k % 25 === 0) await new Promise((r) => setImmediate(r));
        const v = check(p);
        if (v === 'accepted') outcome.accepted.push(p);
        else if (v === 'rejected') outcome.rejected++;
        else outcome.cutShort++;
      }
    });
  }

  it('both verdicts occur often (the mutations reach past the checksum)', () => {
    const total = outcome.accepted.length + outcome.rejected + outcome.cutShort;
    console.log(`trace fuzz: ${total} cases, ${outcome.accepted.length} accepted, ${outcome.rejected} rejected with an input error, ${outcome.cutShort} cut short`);
    expect(total).toBe(CASES);
    expect(outcome.accepted.length).toBeGreaterThan(CASES / 10);
    expect(outcome.rejected).toBeGreaterThan(CASES / 4);
  });

  it('accepted traces replay ok through the real driver (system allocator), serial and threads', async () => {
    const system = resolveTarget('system');
    const base = { touch: 'none', repeat: 1, warmup: 0, metric: 'time', timeoutMs: 30_000 } as const;
    const counts = { serial: 0, threads: 0, allocFailed: 0 };
    const step = Math.max(1, Math.floor(outcome.accepted.length / SERIAL_REPLAYS));
    for (let i = 0; i < outcome.accepted.length && counts.serial < SERIAL_REPLAYS; i += step) {
      const path = outcome.accepted[i]!;
      const plan = planFor(path);
      const modes = plan.threads <= 16 && counts.threads < THREAD_REPLAYS ? (['serial', 'threads'] as const) : (['serial'] as const);
      for (const mode of modes) {
        const r = await runReplay(plan, system, { ...base, mode });
        // NULL from malloc for a size the recording got (say 2^53 − 1 bytes) is the allocator's answer, a result.
        if (r.status === 'alloc-failed') counts.allocFailed++;
        else expect({ path, mode, status: r.status, error: r.error }).toEqual({ path, mode, status: 'ok', error: undefined });
        counts[mode]++;
      }
    }
    console.log(`trace fuzz replays: ${counts.serial} serial, ${counts.threads} threads, ${counts.allocFailed} alloc-failed (huge sizes), the rest ok`);
    expect(counts.serial).toBeGreaterThanOrEqual(Math.min(SERIAL_REPLAYS, outcome.accepted.length) - 1);
  });

  it('the CLI gives exit 0 or one line and exit 1 on a sample, never an internal error', () => {
    const all = [...outcome.accepted.slice(0, CLI_CASES / 2)];
    for (let k = 0; all.length < CLI_CASES && k < CASES; k += 7) {
      const p = join(dir, `case${k}.trace.msgpack`);
      if (!outcome.accepted.includes(p)) all.push(p);
    }
    for (const p of all) {
      const r = cli(['trace', 'validate', p]);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(r.status === 0 ? r.stderr : r.stderr.trim().split('\n')).toEqual(r.status === 0 ? '' : [expect.stringMatching(/^allocreplay: /)]);
      expect([0, 1]).toContain(r.status);
    }
  });
});

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
import { AllocreplayError, Prng, traceInfo, validateTrace } from '../../traces/index.js';
import { cli, tempDir } from '../helpers.js';
import type { Stored } from '../traces/craft.js';
import { CORPUS_SEED, corpusBases, mutate, writeCase } from './corpus.js';

const CASES = 2400;
const BATCH = 100;
const SERIAL_REPLAYS = 120;
const THREAD_REPLAYS = 40;
const CLI_CASES = 10;

interface Outcome {
  accepted: string[];
  rejected: number;
  cutShort: number;
}

describe('trace fuzzing', () => {
  const dir = tempDir('allocreplay-fuzz-');
  const bases: Stored[][] = [];
  const outcome: Outcome = { accepted: [], rejected: 0, cutShort: 0 };
  const rng = new Prng(CORPUS_SEED);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(process.env.ALLOCREPLAY_CACHE!, { recursive: true, force: true });
  });

  beforeAll(() => {
    process.env.ALLOCREPLAY_CACHE = tempDir('allocreplay-cache-');
    bases.push(...corpusBases(dir));
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
      for (let k = b * BATCH; k < (b + 1) * BATCH; k++) {
        const c = mutate(bases[k % bases.length]!, rng);
        const p = join(dir, `case${k}.trace.msgpack`);
        writeCase(p, c);
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

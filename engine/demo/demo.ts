/**
 * The main job (`allocreplay demo`): the allocators side by side, then the
 * story the tool exists for — a refactor dip found, checked and bisected in
 * a real history of tinyslab, the soft cap tuned by a sweep, and a
 * profile-guided build measured against the plain one; and last, whether a
 * replay predicts a real program run live.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CheckResult, Store } from '../../reports/index.js';
import { generate, openTrace } from '../../traces/index.js';
import type { BisectStep } from '../bisect/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { type MatrixResult, type MeasureHooks, runMatrix } from '../runner/index.js';
import { listTargets } from '../targets/index.js';
import { type DemoFidelity, demoFidelity } from './fidelity.js';
import { makeDemoHistory } from './history.js';
import { type PgoFinding, pgoGain } from './pgo.js';
import { bisectDip, checkDip, type DemoBisection, type DipRow, type HistoryPoint, measureDip, type SweepAnswer, sweepAnswer, type SweepPoint, sweepFlag, timeHistory } from './story.js';

/**
 * Events per timed demo trace: a timed region of 7 ms or more for every
 * allocator the demo runs, even a fast one on a fast machine (random-mixed
 * takes 7.5 ns/op or more at 256 and at 8,192 slots, tiny-hot 3.5 or more),
 * above the 5 ms under which a figure is mostly timer and scheduler noise.
 * tinyslab past its soft cap at 8,192 slots takes 50 ns/op or more, so those
 * runs are the demo's longest.
 */
const OPS = 1_000_000;
const HOT_OPS = 2_000_000;
/** Events per trace counted by callgrind: instruction counts are exact, so a short twin of the timed trace answers as well, in seconds. */
const EXACT_OPS = 200_000;

/** Every trace the demo uses, by key; generated once into the demo folder. */
export const DEMO_TRACES: Record<string, { file: string; generator: string; params: Record<string, number> }> = {
  rm128: { file: 'random-mixed-128.trace.msgpack', generator: 'random-mixed', params: { slots: 128, ops: OPS, seed: 42 } },
  rm256: { file: 'random-mixed-256.trace.msgpack', generator: 'random-mixed', params: { slots: 256, ops: OPS, seed: 42 } },
  rm512: { file: 'random-mixed-512.trace.msgpack', generator: 'random-mixed', params: { slots: 512, ops: OPS, seed: 42 } },
  rm2048: { file: 'random-mixed-2048.trace.msgpack', generator: 'random-mixed', params: { slots: 2048, ops: OPS, seed: 42 } },
  rm8192: { file: 'random-mixed-8192.trace.msgpack', generator: 'random-mixed', params: { slots: 8192, ops: OPS, seed: 42 } },
  th16: { file: 'tiny-hot-16.trace.msgpack', generator: 'tiny-hot', params: { size: 16, ops: HOT_OPS } },
  th64: { file: 'tiny-hot-64.trace.msgpack', generator: 'tiny-hot', params: { size: 64, ops: HOT_OPS } },
  larson: { file: 'larson-4x1000.trace.msgpack', generator: 'larson', params: { threads: 4, slots: 1000, ops: OPS, seed: 42 } },
  rm256x: { file: 'random-mixed-256-exact.trace.msgpack', generator: 'random-mixed', params: { slots: 256, ops: EXACT_OPS, seed: 42 } },
  rm8192x: { file: 'random-mixed-8192-exact.trace.msgpack', generator: 'random-mixed', params: { slots: 8192, ops: EXACT_OPS, seed: 42 } },
};

/** Soft caps swept (64 KiB slabs); tinyslab's default is 32, the least of them: below it even small working sets fall back. */
export const SOFT_CAPS = ['32', '64', '128', '256'];
/** The story's PGO training set: random-mixed at 128/256/512 slots, tiny-hot at 16 B and 64 B. */
export const PGO_TRAINING = ['rm128', 'rm256', 'rm512', 'th16', 'th64'];
/**
 * Where PGO is judged: two traces of the training set and two outside it
 * (none past the soft cap, where the time is the fallback's system calls,
 * which no profile changes).
 */
export const PGO_JUDGED = ['rm256', 'th16', 'rm2048', 'larson'];
/** `report check` and the bisection call a change past this a regression (instructions are exact). */
export const DIP_THRESHOLD_PCT = 3;
/**
 * The time bisection calls a probe bad past this (medians), and names the
 * commit only when its step, measured again, is past it with 95%
 * confidence: well under the dip it looks for (some 15%), so a true step
 * clears it on a busy machine too.
 */
export const TIME_THRESHOLD_PCT = 5;
/** The soft cap tinyslab ships with, and the trace on which the sweep's answer is given. */
export const DEFAULT_SOFT_CAP = '32';
export const SWEEP_JUDGED = 'random-mixed-8192';

export interface DemoResult {
  dir: string;
  /** The replay options of the allocator table, the sweep and the instruction counts. */
  options: ReplayOptions;
  /** The options the history is timed with (timeline, dip, time bisection): one more warm-up, 1.5× the repetitions. */
  historyOptions: ReplayOptions;
  traces: Record<string, string>;
  /** Every allocator on rm256, rm8192 and tiny-hot 16. */
  allocators: MatrixResult;
  history: { repo: string; commits: { commit: string; subject: string }[] };
  /** Every commit timed on random-mixed-256, interleaved: what the time bisection judges from. */
  timeline: HistoryPoint[];
  dip: DipRow[];
  check: CheckResult;
  /** By instructions on the short twin of random-mixed-256, then by time on random-mixed-256 (its last step measured again, 3× the repetitions a side). */
  bisect: DemoBisection;
  bisectTime: DemoBisection;
  sweep: { flag: string; points: SweepPoint[]; answer: SweepAnswer | undefined };
  pgo: PgoFinding;
  /** perl recorded, run live and replayed: does the replay predict it? */
  fidelity: DemoFidelity;
}

export interface DemoHooks extends MeasureHooks {
  /** A phase starts (for progress output). */
  onPhase?: (what: string) => void;
  onBisectStep?: (s: BisectStep) => void;
}

/** True when the trace at `path` was generated by `generator` with these parameters (an older demo's file may not be). */
function madeWith(path: string, generator: string, params: Record<string, number>): boolean {
  try {
    const p = openTrace(path).header.producer;
    return p.kind === 'generate' && p.name === generator && Object.entries(params).every(([k, v]) => p.params?.[k] === v);
  } catch {
    return false; // unreadable: made again
  }
}

/** Generates the demo traces that are missing (or made with other parameters); returns every path by key. */
export function demoTraces(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  return Object.fromEntries(
    Object.entries(DEMO_TRACES).map(([k, t]) => {
      const path = resolve(join(dir, t.file));
      if (!existsSync(path) || !madeWith(path, t.generator, t.params)) generate(t.generator, t.params, path);
      return [k, path];
    }),
  );
}

/**
 * Runs the whole demo; what is stored in the store already is reused, not
 * measured again. `options.repeat` is the repetitions of a configuration in
 * the allocator table and the sweep; the history's timings and PGO take
 * half as many again, and the time bisection measures its last step again
 * with three times as many, so their intervals can tell 5% apart on a
 * busy machine.
 */
export async function runDemo(store: Store, session: number, dir: string, options: ReplayOptions, hooks: DemoHooks = {}): Promise<DemoResult> {
  hooks.onPhase?.('generating traces');
  const traces = demoTraces(dir);
  const t = (k: string): string => traces[k]!;
  hooks.onPhase?.('allocators');
  const packaged = listTargets()
    .filter((x) => x.kind === 'preload' && x.available)
    .map((x) => x.name);
  const allocators = await runMatrix(store, session, { traces: [t('rm256'), t('rm8192'), t('th16')], targets: ['system', 'tinyslab', ...packaged], revs: [], set: {}, env: {}, exclude: [], options, force: false }, undefined, hooks);
  const history = makeDemoHistory(join(resolve(dir), 'tinyslab-history'));
  hooks.onPhase?.('timing every commit');
  // Every commit is timed together, interleaved, so a slow spell of the machine falls on all alike; the dip and the
  // time bisection judge from these runs. One more warm-up makes them configurations of their own (not the
  // table's), and half as many repetitions again: the first commit's median is every probe's reference.
  const historyOptions: ReplayOptions = { ...options, warmup: options.warmup + 1, repeat: Math.ceil(options.repeat * 1.5) };
  const timeline = await timeHistory(store, session, history, t('rm256'), historyOptions, hooks);
  hooks.onPhase?.('refactor dip');
  const dip = await measureDip(store, session, history, [t('rm256'), t('rm8192')], historyOptions, hooks, [t('rm256x'), t('rm8192x')], options);
  const checked = checkDip(store, history, DIP_THRESHOLD_PCT, options.warmup);
  hooks.onPhase?.('bisecting by instructions');
  const bisect = await bisectDip(store, session, history, t('rm256x'), options, DIP_THRESHOLD_PCT, hooks.onBisectStep, 'instructions');
  hooks.onPhase?.('bisecting by time');
  const bisectTime = await bisectDip(store, session, history, t('rm256'), historyOptions, TIME_THRESHOLD_PCT, hooks.onBisectStep, 'time');
  // The sweep and PGO compare configurations measured together, interleaved: were the default cap or the plain
  // build taken from the allocator table's runs (stored minutes earlier, the same configuration), a busier spell
  // of the machine in between would read as a difference. A warm-up more than the table's (and than the
  // sweep's, for PGO's plain build, which is the default cap) makes every configuration they judge their own.
  hooks.onPhase?.('soft-cap sweep');
  const swept = await sweepFlag(store, session, 'TS_SOFT_CAP', SOFT_CAPS, [t('rm256'), t('rm2048'), t('rm8192')], { ...options, warmup: options.warmup + 1 }, hooks);
  hooks.onPhase?.('profile-guided build');
  const pgo = await pgoGain(store, session, PGO_TRAINING.map(t), PGO_JUDGED.map(t), { ...options, warmup: options.warmup + 2, repeat: historyOptions.repeat }, hooks);
  hooks.onPhase?.('fidelity on perl');
  const fidelity = await demoFidelity(store, session, dir, ['system', ...packaged], hooks);
  return {
    dir,
    options,
    historyOptions,
    traces,
    allocators,
    history: { repo: history.repo, commits: history.commits },
    timeline,
    dip,
    check: checked,
    bisect,
    bisectTime,
    sweep: { flag: 'TS_SOFT_CAP', points: swept.points, answer: sweepAnswer(swept.points, SWEEP_JUDGED, DEFAULT_SOFT_CAP) },
    pgo,
    fidelity,
  };
}

/**
 * The main job (`allocreplay demo`): the allocators side by side, then the
 * story the tool exists for — a refactor dip found, checked and bisected in
 * a real history of tinyslab, the soft cap tuned by a sweep, and a
 * profile-guided build measured against the plain one.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CheckResult, Store } from '../../reports/index.js';
import { generate } from '../../traces/index.js';
import type { BisectResult, BisectStep } from '../bisect/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { type MatrixResult, type MeasureHooks, runMatrix } from '../runner/index.js';
import { listTargets } from '../targets/index.js';
import { makeDemoHistory } from './history.js';
import { type PgoFinding, pgoGain } from './pgo.js';
import { bisectDip, checkDip, type DipRow, measureDip, type SweepPoint, sweepFlag } from './story.js';

export { type DemoHistory, makeDemoHistory, SPLIT_SUBJECT } from './history.js';
export * from './story.js';
export type { PgoFinding } from './pgo.js';

/** Events per demo trace: enough for steady figures, few enough for callgrind to take seconds. */
const OPS = 500_000;

/** Every trace the demo uses, by key; generated once into the demo folder. */
export const DEMO_TRACES: Record<string, { file: string; generator: string; params: Record<string, number> }> = {
  rm128: { file: 'random-mixed-128.trace.msgpack', generator: 'random-mixed', params: { slots: 128, ops: OPS, seed: 42 } },
  rm256: { file: 'random-mixed-256.trace.msgpack', generator: 'random-mixed', params: { slots: 256, ops: OPS, seed: 42 } },
  rm512: { file: 'random-mixed-512.trace.msgpack', generator: 'random-mixed', params: { slots: 512, ops: OPS, seed: 42 } },
  rm2048: { file: 'random-mixed-2048.trace.msgpack', generator: 'random-mixed', params: { slots: 2048, ops: OPS, seed: 42 } },
  rm8192: { file: 'random-mixed-8192.trace.msgpack', generator: 'random-mixed', params: { slots: 8192, ops: OPS, seed: 42 } },
  th16: { file: 'tiny-hot-16.trace.msgpack', generator: 'tiny-hot', params: { size: 16, ops: OPS } },
  th64: { file: 'tiny-hot-64.trace.msgpack', generator: 'tiny-hot', params: { size: 64, ops: OPS } },
  larson: { file: 'larson-4x1000.trace.msgpack', generator: 'larson', params: { threads: 4, slots: 1000, ops: OPS, seed: 42 } },
};

/** Soft caps swept (64 KiB slabs); tinyslab's default is 32. */
export const SOFT_CAPS = ['8', '32', '64', '128', '256'];
/** The story's PGO training set: random-mixed at 128/256/512 slots, tiny-hot at 16 B and 64 B. */
export const PGO_TRAINING = ['rm128', 'rm256', 'rm512', 'th16', 'th64'];
/** Where PGO is judged: two traces of the training set and two outside it. */
export const PGO_JUDGED = ['rm256', 'th16', 'rm8192', 'larson'];
/** `report check` and the bisection call a change past this a regression (instructions are exact). */
export const DIP_THRESHOLD_PCT = 3;

export interface DemoResult {
  dir: string;
  traces: Record<string, string>;
  /** Every allocator on rm256, rm8192 and tiny-hot 16. */
  allocators: MatrixResult;
  history: { repo: string; commits: { commit: string; subject: string }[] };
  dip: DipRow[];
  check: CheckResult;
  bisect: BisectResult & { stored: boolean };
  sweep: { flag: string; points: SweepPoint[]; best?: SweepPoint };
  pgo: PgoFinding;
}

export interface DemoHooks extends MeasureHooks {
  /** A phase starts (for progress output). */
  onPhase?: (what: string) => void;
  onBisectStep?: (s: BisectStep) => void;
}

/** Generates the demo traces that are missing; returns every path by key. */
export function demoTraces(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  return Object.fromEntries(
    Object.entries(DEMO_TRACES).map(([k, t]) => {
      const path = resolve(join(dir, t.file));
      if (!existsSync(path)) generate(t.generator, t.params, path);
      return [k, path];
    }),
  );
}

/** Runs the whole demo; what is stored in the store already is reused, not measured again. */
export async function runDemo(store: Store, session: number, dir: string, options: ReplayOptions, hooks: DemoHooks = {}): Promise<DemoResult> {
  hooks.onPhase?.('generating traces');
  const traces = demoTraces(dir);
  const t = (k: string): string => traces[k]!;
  hooks.onPhase?.('allocators');
  const packaged = listTargets()
    .filter((x) => x.kind === 'preload' && x.available)
    .map((x) => x.name);
  const allocators = await runMatrix(store, session, { traces: [t('rm256'), t('rm8192'), t('th16')], targets: ['system', 'tinyslab', ...packaged], revs: [], set: {}, env: {}, exclude: [], options, force: false }, undefined, hooks);
  hooks.onPhase?.('refactor dip');
  const history = makeDemoHistory(join(resolve(dir), 'tinyslab-history'));
  const dip = await measureDip(store, session, history, [t('rm256'), t('rm8192')], options, hooks);
  const checked = checkDip(store, history, DIP_THRESHOLD_PCT);
  hooks.onPhase?.('bisecting');
  const bisect = await bisectDip(store, session, history, t('rm256'), options, DIP_THRESHOLD_PCT, hooks.onBisectStep);
  hooks.onPhase?.('soft-cap sweep');
  const sweep = await sweepFlag(store, session, 'TS_SOFT_CAP', SOFT_CAPS, [t('rm256'), t('rm2048'), t('rm8192')], options, 'random-mixed-8192', hooks);
  hooks.onPhase?.('profile-guided build');
  const pgo = await pgoGain(store, session, PGO_TRAINING.map(t), PGO_JUDGED.map(t), options, hooks);
  return { dir, traces, allocators, history: { repo: history.repo, commits: history.commits }, dip, check: checked, bisect, sweep: { flag: 'TS_SOFT_CAP', ...sweep }, pgo };
}

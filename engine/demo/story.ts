/**
 * The three questions of the demo, each answered with the project's own
 * machinery: where did the refactor make tinyslab slower (measure, `report
 * check`, bisect with attribution), which soft cap is best (a flag sweep),
 * and what a profile-guided build gains (engine/build/pgo). Everything is
 * stored, so a second run finds it all and measures nothing.
 */
import { type CheckResult, check, type Store } from '../../reports/index.js';
import { failure } from '../../traces/index.js';
import { type BisectResult, bisectCommits, type BisectStep } from '../bisect/index.js';
import { resolveRevision, type SourceTarget, tinyslabTarget } from '../build/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { makeJobs, type MeasureHooks, measure, type Outcome, planTrace, readySource } from '../runner/index.js';
import type { DemoHistory } from './history.js';

/** First and last commit of the history on one trace and metric. */
export interface DipRow {
  trace: string;
  metric: 'time' | 'instructions';
  /** ns/op (time) or instructions (whole replay). */
  first: number | undefined;
  last: number | undefined;
  /** (last − first) ÷ first, percent. */
  deltaPct: number | undefined;
}

const figure = (o: Outcome | undefined, metric: DipRow['metric']): number | undefined => (metric === 'time' ? o?.nsPerOp : o?.instructions);

/** Measures the history's first and last commits on each trace, by time and by instructions. */
export async function measureDip(store: Store, session: number, history: DemoHistory, traces: string[], options: ReplayOptions, hooks: MeasureHooks = {}): Promise<DipRow[]> {
  const ends = [history.commits[0]!.commit, history.commits.at(-1)!.commit];
  const readies = ends.map((rev) => readySource(store, history.target, rev, {}));
  readies.forEach((r, i) => {
    if (r.buildError) throw failure(`demo history: the ${i ? 'last' : 'first'} commit of ${history.repo} does not build: ${r.buildError} (log: ${r.buildLog})`, "tinyslab's sources changed in a way engine/demo/history.ts does not handle yet; fix its steps");
  });
  const planned = traces.map((t) => planTrace(store, t));
  const rows: DipRow[] = [];
  for (const metric of ['time', 'instructions'] as const) {
    const opts = { ...options, metric };
    const jobs = makeJobs(store, planned, readies, opts);
    const outcomes = await measure(store, session, jobs, opts, { interleave: true }, hooks);
    for (const t of planned) {
      const at = (rev: string): number | undefined => figure(outcomes.find((o) => o.trace === t.name && o.configuration.revision === rev), metric);
      const first = at(ends[0]!);
      const last = at(ends[1]!);
      rows.push({ trace: t.name, metric, first, last, deltaPct: first && last ? ((last - first) / first) * 100 : undefined });
    }
  }
  return rows;
}

/** `report check` of the last commit against the first, as a CI job would run it (instructions: exact). */
export function checkDip(store: Store, history: DemoHistory, thresholdPct: number): CheckResult {
  const sel = (rev: string): string => `target=${history.target.name} rev=${rev}`;
  return check(store, sel(history.commits[0]!.commit), sel(history.commits.at(-1)!.commit), { metric: 'instructions', thresholdPct });
}

/** A finished bisection of the same search stored earlier: shown again instead of re-profiling. */
function storedBisection(store: Store, source: SourceTarget, traceChecksum: string, good: string, bad: string, thresholdPct: number): BisectResult | undefined {
  const rows = store.db.prepare("SELECT result, spec FROM bisections WHERE kind = 'commits' AND status = 'done' ORDER BY id DESC").all() as { result: string; spec: string }[];
  for (const r of rows) {
    const spec = JSON.parse(r.spec) as { target?: { repo?: string }; trace?: string; good?: string; bad?: string; metric?: string; threshold?: number };
    if (spec.target?.repo === source.repo && spec.trace === traceChecksum && spec.good === good && spec.bad === bad && spec.metric === 'instructions' && spec.threshold === thresholdPct) {
      return JSON.parse(r.result) as BisectResult;
    }
  }
  return undefined;
}

/** Bisects the history with the instructions metric (first → last commit), with per-function attribution. */
export async function bisectDip(store: Store, session: number, history: DemoHistory, trace: string, options: ReplayOptions, thresholdPct: number, onStep?: (s: BisectStep) => void): Promise<BisectResult & { stored: boolean }> {
  const good = resolveRevision(history.target, history.commits[0]!.commit).commit;
  const bad = resolveRevision(history.target, history.commits.at(-1)!.commit).commit;
  const opts: ReplayOptions = { ...options, metric: 'instructions', repeat: 1 };
  const stored = storedBisection(store, history.target, planTrace(store, trace).plan.checksum, good, bad, thresholdPct);
  if (stored) return { ...stored, stored: true };
  const r = await bisectCommits({ store, session, source: history.target, trace, options: opts, thresholdPct, attribution: true, good, bad, flags: {}, firstParent: false, ...(onStep ? { onStep } : {}) });
  return { ...r, stored: false };
}

/** One point of a soft-cap sweep. */
export interface SweepPoint {
  trace: string;
  value: string;
  nsPerOp: number | undefined;
  fallbacks: number | undefined;
}

/**
 * Sweeps a numeric flag of tinyslab over `values` on every trace (time
 * metric); the best value is the one with the lowest ns/op on `bestOn`.
 */
export async function sweepFlag(store: Store, session: number, flag: string, values: string[], traces: string[], options: ReplayOptions, bestOn: string, hooks: MeasureHooks = {}): Promise<{ points: SweepPoint[]; best?: SweepPoint }> {
  const source = tinyslabTarget();
  const readies = values.map((v) => readySource(store, source, undefined, { [flag]: v }));
  const planned = traces.map((t) => planTrace(store, t));
  const outcomes = await measure(store, session, makeJobs(store, planned, readies, options), options, { interleave: true }, hooks);
  const points = outcomes.map((o) => ({ trace: o.trace, value: o.configuration.flags[flag]!, nsPerOp: o.nsPerOp, fallbacks: o.allocatorStats?.cap_fallbacks }));
  const on = points.filter((p) => p.trace === bestOn && p.nsPerOp !== undefined);
  const best = on.reduce<SweepPoint | undefined>((b, p) => (!b || p.nsPerOp! < b.nsPerOp! ? p : b), undefined);
  return { points, ...(best ? { best } : {}) };
}

/**
 * The three questions of the demo, each answered with the project's own
 * machinery: where did the refactor make tinyslab slower (measure, `report
 * check`, bisect with attribution), which soft cap is best (a flag sweep),
 * and what a profile-guided build gains (engine/build/pgo). Everything is
 * stored, so a second run finds it all and measures nothing.
 */
import { bootstrapRatioCI, type CheckResult, check, median, type Store } from '../../reports/index.js';
import { failure, type Metric, METRICS } from '../../traces/index.js';
import { type BisectResult, bisectCommits, type BisectStep } from '../bisect/index.js';
import { resolveRevision, type SourceTarget, tinyslabTarget } from '../build/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { makeJobs, type MeasureHooks, measure, type Outcome, planTrace, readySource } from '../runner/index.js';
import type { DemoHistory } from './history.js';

/**
 * A change measured between two sides (A → B): the ratio of medians
 * B ÷ A and its 95% bootstrap CI. Time figures carry their repetitions'
 * spread; an instruction count is exact, so its CI is the ratio itself.
 */
export interface Change {
  ratio: number;
  ci: [number, number];
  /** Repetitions per side (1 for exact counts). */
  n: [number, number];
}

/** The change from samples `a` to samples `b` (ns/op or instructions); undefined when a side has none. */
export function changeOf(a: readonly number[], b: readonly number[], exact = false): Change | undefined {
  if (!a.length || !b.length) return undefined;
  const ratio = median(b) / median(a);
  return { ratio, ci: exact ? [ratio, ratio] : bootstrapRatioCI(a, b), n: [a.length, b.length] };
}

/** True when the change's interval excludes "no change" (ratio 1). */
export function isClear(c: Change | undefined): c is Change {
  return c !== undefined && Number.isFinite(c.ci[0]) && Number.isFinite(c.ci[1]) && (c.ci[0] > 1 || c.ci[1] < 1);
}

/** First and last commit of the history on one trace and metric. */
export interface DipRow {
  trace: string;
  metric: Metric;
  /** ns/op (time, median) or instructions (whole replay). */
  first: number | undefined;
  last: number | undefined;
  /** (last − first) ÷ first, percent. */
  deltaPct: number | undefined;
  /** last ÷ first with its interval. */
  change: Change | undefined;
}

/** The per-repetition figures of an outcome: ns/op (time) or the instruction count (one exact run). */
export function valuesOf(o: Outcome | undefined, metric: DipRow['metric']): number[] {
  if (!o || o.status !== 'ok') return [];
  if (metric === 'instructions') return o.instructions === undefined ? [] : [o.instructions];
  return o.samples.map((s) => s.nsPerOp);
}

/**
 * Measures the history's first and last commits on each trace, by time
 * (`traces`, repetitions interleaved) and by instructions (`exactTraces`,
 * one callgrind run each, under `exactOptions`; by default the same traces
 * and options). Rows are named by the time trace they stand for.
 */
export async function measureDip(store: Store, session: number, history: DemoHistory, traces: string[], options: ReplayOptions, hooks: MeasureHooks = {}, exactTraces: string[] = traces, exactOptions: ReplayOptions = options): Promise<DipRow[]> {
  const ends = [history.commits[0]!.commit, history.commits.at(-1)!.commit];
  const readies = ends.map((rev) => readySource(store, history.target, rev, {}));
  readies.forEach((r, i) => {
    if (r.buildError) throw failure(`demo history: the ${i ? 'last' : 'first'} commit of ${history.repo} does not build: ${r.buildError} (log: ${r.buildLog})`, "tinyslab's sources changed in a way engine/demo/history.ts does not handle yet; fix its steps");
  });
  const names = traces.map((t) => planTrace(store, t).name);
  const rows: DipRow[] = [];
  for (const metric of METRICS) {
    const opts = { ...(metric === 'time' ? options : exactOptions), metric };
    const planned = (metric === 'time' ? traces : exactTraces).map((t) => planTrace(store, t));
    const jobs = makeJobs(store, planned, readies, opts);
    const outcomes = await measure(store, session, jobs, opts, { interleave: true }, hooks);
    planned.forEach((t, i) => {
      const at = (rev: string): number[] => valuesOf(outcomes.find((o) => o.trace === t.name && o.configuration.revision === rev), metric);
      const a = at(ends[0]!);
      const b = at(ends[1]!);
      const first = a.length ? median(a) : undefined;
      const last = b.length ? median(b) : undefined;
      rows.push({ trace: names[i] ?? t.name, metric, first, last, deltaPct: first && last ? ((last - first) / first) * 100 : undefined, change: changeOf(a, b, metric === 'instructions') });
    });
  }
  return rows;
}

/** One commit of the history timed on one trace, against the first commit. */
export interface HistoryPoint {
  commit: string;
  subject: string;
  /** Median ns/op. */
  nsPerOp: number | undefined;
  /** This commit ÷ the first, with its interval. */
  change: Change | undefined;
}

/**
 * Times every commit of the history on `trace`, repetitions interleaved
 * across all of them (A B C … A B C …), so a slow spell of the machine
 * falls on every commit alike. A time bisection with the same options then
 * judges its probes from these runs.
 */
export async function timeHistory(store: Store, session: number, history: DemoHistory, trace: string, options: ReplayOptions, hooks: MeasureHooks = {}): Promise<HistoryPoint[]> {
  const readies = history.commits.map((c) => readySource(store, history.target, c.commit, {}));
  const jobs = makeJobs(store, [planTrace(store, trace)], readies, options);
  const outcomes = await measure(store, session, jobs, options, { interleave: true }, hooks);
  const values = jobs.map((j) => valuesOf(outcomes.find((o) => o.configHash === j.configHash), 'time'));
  return history.commits.map((c, i) => ({ commit: c.commit, subject: c.subject, nsPerOp: values[i]!.length ? median(values[i]!) : undefined, change: changeOf(values[0]!, values[i]!) }));
}

/** `report check` of the last commit against the first, as a CI job would run it (instructions: exact). */
export function checkDip(store: Store, history: DemoHistory, thresholdPct: number, warmup?: number): CheckResult {
  // The time bisection measures the same commits with another warm-up: naming the dip's keeps one configuration a side.
  const sel = (rev: string): string => `target=${history.target.name} rev=${rev}${warmup === undefined ? '' : ` warmup=${warmup}`}`;
  return check(store, sel(history.commits[0]!.commit), sel(history.commits.at(-1)!.commit), { metric: 'instructions', thresholdPct });
}

/** A finished bisection of the same search stored earlier: shown again instead of measuring again. */
function storedBisection(store: Store, source: SourceTarget, traceChecksum: string, good: string, bad: string, metric: DipRow['metric'], thresholdPct: number): BisectResult | undefined {
  const rows = store.db.prepare("SELECT result, spec FROM bisections WHERE kind = 'commits' AND status = 'done' ORDER BY id DESC").all() as { result: string; spec: string }[];
  for (const r of rows) {
    const spec = JSON.parse(r.spec) as { target?: { repo?: string }; trace?: string; good?: string; bad?: string; metric?: string; threshold?: number };
    if (spec.target?.repo === source.repo && spec.trace === traceChecksum && spec.good === good && spec.bad === bad && spec.metric === metric && spec.threshold === thresholdPct) {
      return JSON.parse(r.result) as BisectResult;
    }
  }
  return undefined;
}

/** A bisection of the demo history, or why there is none (its ends showed no change to bisect). */
export type DemoBisection = (BisectResult & { stored: boolean; metric: DipRow['metric'] }) | { refused: string; metric: DipRow['metric'] };

/**
 * Bisects the history (first → last commit) by instructions (exact, with
 * per-function attribution) or by time (medians of `options.repeat`
 * repetitions per probe, the final pair measured again and judged with its
 * interval). Ends without a change beyond the threshold are not an error
 * here: the answer says so.
 */
export async function bisectDip(store: Store, session: number, history: DemoHistory, trace: string, options: ReplayOptions, thresholdPct: number, onStep?: (s: BisectStep) => void, metric: DipRow['metric'] = 'instructions'): Promise<DemoBisection> {
  const good = resolveRevision(history.target, history.commits[0]!.commit).commit;
  const bad = resolveRevision(history.target, history.commits.at(-1)!.commit).commit;
  const opts: ReplayOptions = metric === 'instructions' ? { ...options, metric, repeat: 1 } : { ...options, metric };
  const stored = storedBisection(store, history.target, planTrace(store, trace).plan.checksum, good, bad, metric, thresholdPct);
  if (stored) return { ...stored, stored: true, metric };
  try {
    const r = await bisectCommits({ store, session, source: history.target, trace, options: opts, thresholdPct, attribution: metric === 'instructions', good, bad, flags: {}, firstParent: false, ...(onStep ? { onStep } : {}) });
    return { ...r, stored: false, metric };
  } catch (e) {
    // Ends without a change to bisect: a finding of the demo, not a failure of it.
    if (e instanceof Error && /no regression to bisect|is better, not worse/.test(e.message)) return { refused: e.message, metric };
    throw e;
  }
}

/** One point of a soft-cap sweep. */
export interface SweepPoint {
  trace: string;
  value: string;
  /** Median ns/op. */
  nsPerOp: number | undefined;
  /** ns/op per repetition. */
  samples: number[];
  fallbacks: number | undefined;
}

/**
 * What a sweep says on one trace: the fastest value by median, set against
 * the default. `clear` only when the interval of best ÷ default excludes 1
 * (for the default itself: when it is clearly faster than the runner-up).
 */
export interface SweepAnswer {
  trace: string;
  best: SweepPoint;
  dflt: SweepPoint;
  /** The point the best is set against: the default, or the runner-up when the default is best. */
  against: SweepPoint;
  /** against ÷ best (> 1: the best is faster), with its interval. */
  speedup: Change;
  clear: boolean;
  /** The values not clearly different from the best (the best among them), in ascending order of value. */
  alike: SweepPoint[];
}

/** Judges the sweep on `trace` (see SweepAnswer); undefined when fewer than two values have figures. */
export function sweepAnswer(points: SweepPoint[], trace: string, defaultValue: string): SweepAnswer | undefined {
  const on = points.filter((p) => p.trace === trace && p.samples.length).sort((a, b) => median(a.samples) - median(b.samples));
  const dflt = on.find((p) => p.value === defaultValue);
  if (on.length < 2 || !dflt) return undefined;
  const best = on[0]!;
  const against = best === dflt ? on[1]! : dflt;
  const speedup = changeOf(best.samples, against.samples)!;
  const alike = on.filter((p) => p === best || !isClear(changeOf(best.samples, p.samples))).sort((a, b) => Number(a.value) - Number(b.value));
  return { trace, best, dflt, against, speedup, clear: isClear(speedup) && speedup.ratio > 1, alike };
}

/** Sweeps a numeric flag of tinyslab over `values` on every trace (time metric, repetitions interleaved). */
export async function sweepFlag(store: Store, session: number, flag: string, values: string[], traces: string[], options: ReplayOptions, hooks: MeasureHooks = {}): Promise<{ points: SweepPoint[] }> {
  const source = tinyslabTarget();
  const readies = values.map((v) => readySource(store, source, undefined, { [flag]: v }));
  const planned = traces.map((t) => planTrace(store, t));
  const outcomes = await measure(store, session, makeJobs(store, planned, readies, options), options, { interleave: true }, hooks);
  const points = outcomes.map((o) => ({ trace: o.trace, value: o.configuration.flags[flag]!, nsPerOp: o.nsPerOp, samples: valuesOf(o, 'time'), fallbacks: o.allocatorStats?.cap_fallbacks }));
  return { points };
}

import { compareSamples, type Store, type Verdict } from '../../reports/index.js';
import { usageError } from '../../traces/index.js';
import type { SourceTarget } from '../build/index.js';
import { discardProfile, type ReplayOptions, runReplay } from '../driver/index.js';
import { machineKey, median, signedPct } from '../../reports/index.js';
import { fullAssignment } from '../build/index.js';
import { paceOf } from '../identity/index.js';
import { makeJob, measure, type Outcome, type PlannedTrace } from '../runner/index.js';
import { readySource } from '../runner/targets.js';
import { attribute, type FunctionDelta, profileFunctions } from './attribution.js';
import type { BisectCommon, BisectDirection, BisectResult, BisectStep } from './types.js';

/** One probe: a configuration built and measured (value null when it did not build or run). */
export interface Measurement {
  value: number | null;
  buildKey?: string;
  runId?: number;
  library?: string;
}

/** What a running bisection carries. */
export interface Ctx {
  store: Store;
  session: number;
  source: SourceTarget;
  trace: PlannedTrace;
  options: ReplayOptions;
  thresholdPct: number;
  direction: BisectDirection;
  kind: 'commits' | 'flags';
  spec: Record<string, unknown>;
  /** Set by `open` once both ends are measured and differ: a refused bisection leaves nothing stored. */
  bisection?: number;
  steps: BisectStep[];
  onStep: (s: BisectStep) => void;
  buildKeys: Set<string>;
}

export function makeCtx(c: BisectCommon, trace: PlannedTrace, kind: 'commits' | 'flags', spec: Record<string, unknown>): Ctx {
  return {
    store: c.store,
    session: c.session,
    source: c.source,
    trace,
    options: c.options,
    thresholdPct: c.thresholdPct,
    direction: c.improvement ? 'improvement' : 'regression',
    kind,
    spec,
    steps: [],
    onStep: c.onStep ?? (() => {}),
    buildKeys: new Set(),
  };
}

/**
 * The identity of a bisection: every option that changes what it measures
 * or how it searches. The same spec resumes the same bisection; any
 * difference (a `--first-parent`, another `--repeat`) is another one.
 */
export function bisectionSpec(kind: 'commits' | 'flags', c: BisectCommon, trace: PlannedTrace, search: Record<string, unknown>): Record<string, unknown> {
  const s = c.source;
  return {
    kind,
    target: { name: s.name, repo: s.repo, build: s.build, artifact: s.artifact, flags: s.flags, env: s.env ?? {} },
    trace: trace.plan.checksum,
    metric: c.options.metric,
    mode: c.options.mode,
    touch: c.options.touch,
    ...paceOf(c.options),
    warmup: c.options.warmup,
    repeat: c.options.repeat,
    threshold: c.thresholdPct,
    direction: c.improvement ? 'improvement' : 'regression',
    // Timings are this machine's: a merged database keeps two machines' bisections apart.
    machine: machineKey(),
    ...search,
    // Flag assignments with the declared defaults filled in: the spelling of a default never splits a bisection.
    ...(search.flags ? { flags: fullAssignment(s.name, s.flags, search.flags as Record<string, string>) } : {}),
    ...(search.good && typeof search.good === 'object' ? { good: fullAssignment(s.name, s.flags, search.good as Record<string, string>) } : {}),
    ...(search.bad && typeof search.bad === 'object' ? { bad: fullAssignment(s.name, s.flags, search.bad as Record<string, string>) } : {}),
  };
}

/** The figure a run's samples give for the bisection's metric. */
function valuesOf(options: ReplayOptions, o: Outcome): number[] {
  return o.samples.map((s) => (options.metric === 'time' ? s.nsPerOp : (s.instructions ?? NaN))).filter((v) => Number.isFinite(v));
}

/**
 * Builds (cached) and measures one configuration. A stored run is reused
 * only when it is ok and has the repetitions asked for: a crashed,
 * timed-out or shorter run is measured again, so a probe that failed once
 * is not `skip` for ever.
 */
export async function probe(ctx: Ctx, rev: string | undefined, flags: Record<string, string>): Promise<Measurement> {
  const ready = readySource(ctx.store, ctx.source, rev, flags);
  const key = ready.buildId !== undefined ? String(ready.buildId) : `${rev}:${JSON.stringify(flags)}`;
  ctx.buildKeys.add(key);
  if (ready.buildError) return { value: null, buildKey: key };
  const job = makeJob(ctx.store, ctx.trace, ready, ctx.options);
  const outcome = (await measure(ctx.store, ctx.session, [job], ctx.options, { retryFailed: true }))[0]!;
  const values = valuesOf(ctx.options, outcome);
  return {
    value: outcome.status === 'ok' && values.length ? median(values) : null,
    buildKey: key,
    ...(outcome.runId !== undefined ? { runId: outcome.runId } : {}),
    ...(ready.target.library ? { library: ready.target.library } : {}),
  };
}

/** The verdict that means "has the change" in this bisection's direction. */
export function wanted(ctx: Ctx): Verdict {
  return ctx.direction === 'improvement' ? 'improvement' : 'regression';
}

/** Exact comparison of two medians against the threshold. */
export function verdictOf(ctx: Ctx, good: number, value: number): Verdict {
  return compareSamples([good], [value], { thresholdPct: ctx.thresholdPct, exact: true }).verdict;
}

/** True when `value` differs from `good` beyond the threshold in the bisection's direction. */
export function hasChange(ctx: Ctx, good: number, value: number): boolean {
  return verdictOf(ctx, good, value) === wanted(ctx);
}

const pct = (good: number, bad: number): string => signedPct(((bad - good) / good) * 100);

/**
 * Refuses a pair of ends without a change to bisect: with the figures, and
 * when the change goes the other way, says so and names the option that
 * bisects it.
 */
export function checkEnds(ctx: Ctx, good: number, bad: number, what: string): void {
  const v = verdictOf(ctx, good, bad);
  if (v === wanted(ctx)) return;
  const figures = `${what} measures ${bad} against ${good} (${pct(good, bad)}, threshold ${ctx.thresholdPct}%)`;
  if (v === 'improvement') throw usageError(`the bad end is better, not worse: ${figures}`, 'to find the change that made it better, add --improvement (or swap --good and --bad if they are mixed up)');
  if (v === 'regression') throw usageError(`the bad end is worse, not better: ${figures}`, 'drop --improvement to find the change that made it worse');
  throw usageError(`no ${ctx.direction} to bisect: ${figures}`, 'check --good and --bad, or lower --threshold');
}

function save(ctx: Ctx, step: BisectStep): void {
  if (ctx.bisection === undefined) return;
  const buildId = step.buildKey && /^\d+$/.test(step.buildKey) ? Number(step.buildKey) : undefined;
  ctx.store.saveBisectionStep(ctx.bisection, {
    step: step.step,
    probe: step.subject ? `${step.probe} ${step.subject}` : step.probe,
    value: step.value,
    verdict: step.verdict,
    ...(buildId !== undefined ? { buildId } : {}),
    ...(step.runId !== undefined ? { runId: step.runId } : {}),
  });
}

/** Appends a step: kept in memory, stored (once the bisection is open), reported. */
export function record(ctx: Ctx, s: Omit<BisectStep, 'step'>, m?: Measurement): BisectStep {
  const step: BisectStep = { step: ctx.steps.length, ...s, ...(m?.buildKey ? { buildKey: m.buildKey } : {}), ...(m?.runId !== undefined ? { runId: m.runId } : {}) };
  ctx.steps.push(step);
  save(ctx, step);
  ctx.onStep(step);
  return step;
}

/** Stores the bisection (or finds it again: the same spec resumes it) with the steps taken so far. */
export function open(ctx: Ctx): number {
  ctx.bisection = ctx.store.ensureBisection(ctx.kind, ctx.spec);
  for (const s of ctx.steps) save(ctx, s);
  return ctx.bisection;
}

/** Callgrind profiles of both ends and their per-function deltas (instructions metric only). */
export async function attributionFor(ctx: Ctx, goodLib: string | undefined, badLib: string | undefined): Promise<FunctionDelta[]> {
  if (!goodLib || !badLib) return [];
  const profile = async (library: string): Promise<ReturnType<typeof profileFunctions>> => {
    const r = await runReplay(ctx.trace.plan, { name: ctx.source.name, kind: 'source', library, env: ctx.source.env ?? {} }, { ...ctx.options, metric: 'instructions' });
    if (!r.profilePath) return [];
    try {
      return profileFunctions(r.profilePath);
    } finally {
      discardProfile(r);
    }
  };
  return attribute(await profile(goodLib), await profile(badLib));
}

/** Percent of the whole change that one step explains. */
export const SHARE_WARN_PCT = 80;

/** Stores the answer: `bisect show` prints it again. */
export function finish(ctx: Ctx, result: Omit<BisectResult, 'id' | 'kind' | 'direction' | 'spec' | 'steps' | 'builds'>): BisectResult {
  const id = ctx.bisection ?? open(ctx);
  const full: BisectResult = { id, kind: ctx.kind, direction: ctx.direction, ...result, steps: ctx.steps, builds: ctx.buildKeys.size, spec: ctx.spec };
  ctx.store.finishBisection(id, full);
  return full;
}

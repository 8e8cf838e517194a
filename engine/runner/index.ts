import { basename } from 'node:path';
import { mad, median, type Store } from '../../reports/index.js';
import { discardProfile, type Metric, type ReplayOptions, type RunResult, runReplay, type SampleFigures } from '../driver/index.js';
import { type Plan, planFor } from '../plan/index.js';
import type { Target } from '../targets/index.js';

/** One trace, planned and known to the store. */
export interface PlannedTrace {
  path: string;
  name: string;
  plan: Plan;
  traceId: number;
}

/** A target ready to replay through: its library is built and its identity known. */
export interface ReadyTarget {
  target: Target;
  revision?: string;
  /** Compile-time flags it was built with. */
  flags: Record<string, string>;
  buildId?: number;
  /** Set when the build failed: every run of it is recorded as failed. */
  buildError?: string;
}

/** A configuration measured on a trace: the unit of a Run. */
export interface Job {
  trace: PlannedTrace;
  ready: ReadyTarget;
  configurationId: number;
  configHash: string;
  label: string;
}

/** What a replay/matrix prints per (trace, configuration). */
export interface Outcome {
  trace: string;
  target: string;
  label: string;
  configHash: string;
  status: RunResult['status'];
  runId: number | undefined;
  skipped: boolean;
  samples: SampleFigures[];
  nsPerOp: number | undefined;
  nsPerOpSpread: number | undefined;
  instructions: number | undefined;
  peakRssKiB: number | undefined;
  allocatorStats: Record<string, number> | undefined;
  error?: string;
  signal?: string;
  opIndex?: number;
}

// One statistics module computes every median and MAD (reports/stats).
export { mad, median };

/** Plans a trace and registers it with the store. */
export function planTrace(store: Store, path: string): PlannedTrace {
  const plan = planFor(path);
  const name = basename(path).replace(/\.trace\.msgpack$/, '');
  const traceId = store.ensureTrace({ checksum: plan.checksum, name, path, events: plan.ops, producer: 'trace' });
  return { path, name, plan, traceId };
}

/** Registers the configuration of (target, options) and makes the job. */
export function makeJob(store: Store, trace: PlannedTrace, ready: ReadyTarget, options: ReplayOptions): Job {
  const spec = {
    target: ready.target.name,
    targetKind: ready.target.kind,
    ...(ready.revision ? { revision: ready.revision } : {}),
    flags: ready.flags,
    env: ready.target.env,
    options: { mode: options.mode, touch: options.touch, metric: options.metric },
  };
  const { id, hash } = store.ensureConfiguration(spec);
  const label = [ready.revision ? `${spec.target}@${ready.revision.slice(0, 7)}` : spec.target, ...Object.entries({ ...spec.flags, ...spec.env }).map(([k, v]) => `${k}=${v}`)].join(' ');
  return { trace, ready, configurationId: id, configHash: hash, label };
}

function outcomeOf(job: Job, r: RunResult, runId: number | undefined, skipped: boolean, metric: Metric): Outcome {
  const ok = r.samples.length > 0 && r.status === 'ok';
  const ns = r.samples.map((s) => s.nsPerOp);
  const ins = r.samples.map((s) => s.instructions).filter((x): x is number => x !== undefined);
  return {
    trace: job.trace.name,
    target: job.ready.target.name,
    label: job.label,
    configHash: job.configHash,
    status: r.status,
    runId,
    skipped,
    samples: r.samples,
    nsPerOp: ok && metric === 'time' ? median(ns) : undefined,
    nsPerOpSpread: ok && metric === 'time' ? mad(ns) : undefined,
    instructions: ok && ins.length ? median(ins) : undefined,
    peakRssKiB: ok ? Math.max(...r.samples.map((s) => s.peakRssKiB)) : undefined,
    allocatorStats: r.allocatorStats,
    ...(r.error ? { error: r.error } : {}),
    ...(r.signal ? { signal: r.signal } : {}),
    ...(r.opIndex !== undefined ? { opIndex: r.opIndex } : {}),
  };
}

/** Rebuilds an Outcome from a stored run (for skipped configurations). */
export function outcomeFromStore(store: Store, job: Job, runId: number, metric: Metric): Outcome {
  const row = store.runs({ id: runId })[0]!;
  const samples: SampleFigures[] = store.samples(runId).map((s) => ({
    wallNs: s.wallNs,
    nsPerOp: s.nsPerOp,
    userUs: 0,
    sysUs: 0,
    maxRssKiB: s.maxRssKiB ?? 0,
    peakRssKiB: s.peakRssKiB ?? 0,
    minorFaults: 0,
    majorFaults: 0,
    volCtxSwitches: 0,
    invCtxSwitches: 0,
    ...(s.instructions !== null ? { instructions: s.instructions } : {}),
  }));
  const r: RunResult = { status: row.status, samples, ...(row.allocatorStats ? { allocatorStats: row.allocatorStats } : {}) };
  if (row.error) r.error = row.error;
  if (row.signal) r.signal = row.signal;
  if (row.opIndex !== null) r.opIndex = row.opIndex;
  return outcomeOf(job, r, runId, true, metric);
}

export interface MeasureHooks {
  /** Called before each driver process starts. */
  onStart?: (job: Job, round: number) => void;
  /** Called after each run is stored. */
  onDone?: (o: Outcome) => void;
}

/**
 * Measures jobs and records one Run per job. With the time metric and
 * `interleave`, repetitions go round-robin across the jobs of one trace
 * (A B C A B C …, one driver process per repetition, each with its own
 * warm-up) so machine drift spreads evenly; each job's Run is stored when
 * its trace's rounds end. Instructions are exact: one repetition, stored at
 * once.
 */
export async function measure(store: Store, sessionId: number, jobs: Job[], options: ReplayOptions, interleave: boolean, hooks: MeasureHooks = {}): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const store1 = (job: Job, r: RunResult): void => {
    discardProfile(r);
    const runId = store.recordRun({
      sessionId,
      traceId: job.trace.traceId,
      configurationId: job.configurationId,
      ...(job.ready.buildId !== undefined ? { buildId: job.ready.buildId } : {}),
      metric: options.metric,
      status: r.status,
      ...(r.error ? { error: r.error } : {}),
      ...(r.signal ? { signal: r.signal } : {}),
      ...(r.opIndex !== undefined ? { opIndex: r.opIndex } : {}),
      ...(r.allocatorStats ? { allocatorStats: r.allocatorStats } : {}),
      ...(r.series ? { series: r.series } : {}),
      ...(r.checks ? { checks: { ...r.checks } } : {}),
      samples: r.samples,
    });
    const o = outcomeOf(job, r, runId, false, options.metric);
    outcomes.push(o);
    hooks.onDone?.(o);
  };
  const failedBuild = (job: Job): RunResult => ({ status: 'failed', error: `build failed: ${job.ready.buildError}`, samples: [] });

  if (!interleave || options.metric === 'instructions' || options.repeat <= 1) {
    for (const job of jobs) {
      hooks.onStart?.(job, 0);
      store1(job, job.ready.buildError ? failedBuild(job) : await runReplay(job.trace.plan, job.ready.target, options));
    }
    return outcomes;
  }
  // Interleaved: group by trace, rounds within a group.
  const groups = new Map<number, Job[]>();
  for (const j of jobs) groups.set(j.trace.traceId, [...(groups.get(j.trace.traceId) ?? []), j]);
  for (const group of groups.values()) {
    const acc = new Map<Job, RunResult>();
    for (const j of group) acc.set(j, j.ready.buildError ? failedBuild(j) : { status: 'ok', samples: [] });
    for (let round = 0; round < options.repeat; round++) {
      for (const j of group) {
        const sofar = acc.get(j)!;
        if (sofar.status !== 'ok') continue;
        hooks.onStart?.(j, round);
        const r = await runReplay(j.trace.plan, j.ready.target, { ...options, repeat: 1 });
        if (r.status !== 'ok') {
          acc.set(j, { ...r, samples: sofar.samples });
          continue;
        }
        sofar.samples.push(...r.samples);
        if (round === 0) {
          if (r.series) sofar.series = r.series;
          if (r.checks) sofar.checks = r.checks;
        }
        if (r.allocatorStats) sofar.allocatorStats = r.allocatorStats;
      }
    }
    for (const j of group) store1(j, acc.get(j)!);
  }
  return outcomes;
}
export * from './targets.js';
export * from './matrix.js';
export * from './demo.js';

import { basename } from 'node:path';
import { type Configuration, labelConfigurations, mad, median, type RunRow, type Store } from '../../reports/index.js';
import { DEFAULT_PACE_SCALE, discardProfile, type ReplayOptions, type RunResult, runReplay, type SampleFigures } from '../driver/index.js';
import { type Metric, openTrace, programHash, type ProgramIdentity, type RunStatus } from '../../traces/index.js';
import { configurationOf, type ReadyTarget } from '../identity/index.js';
import { type Plan, planFor } from '../plan/index.js';
import type { Target } from '../targets/index.js';

/** One trace, planned and known to the store. */
export interface PlannedTrace {
  path: string;
  name: string;
  plan: Plan;
  traceId: number;
  /** Recorded from a real program with call times (record): replays of it default to the modes that predict the live program. */
  recorded: boolean;
  /** The program the recording ran (its header's), if stored. */
  program?: ProgramIdentity;
  /** Its pace scale calibrated on this machine (calibrate.ts), once measured. */
  paceScale?: number;
}

/** A configuration measured on a trace: the unit of a Run. */
export interface Job {
  trace: PlannedTrace;
  ready: ReadyTarget;
  configuration: Configuration;
  configurationId: number;
  configHash: string;
  /** What tells this configuration apart from the others measured with it. */
  label: string;
  /** The replay options its configuration was made with: they win over the run's shared options, so jobs of one run may replay differently (e.g. pace=recorded only for recorded traces). */
  replay: JobReplay;
}

/** The options of a job that its configuration names. */
export type JobReplay = Pick<ReplayOptions, 'mode' | 'touch' | 'warmup' | 'pace' | 'paceScale'>;

/** What a replay/matrix prints per (trace, configuration). */
export interface Outcome {
  trace: string;
  target: string;
  label: string;
  configHash: string;
  configuration: Configuration;
  status: RunStatus;
  runId: number | undefined;
  /** Nothing was measured now: the stored figures were enough (or the stored failure stands). */
  skipped: boolean;
  samples: SampleFigures[];
  nsPerOp: number | undefined;
  nsPerOpSpread: number | undefined;
  instructions: number | undefined;
  /** Peak RSS above the driver's baseline: the allocator's own growth (KiB). */
  peakRssKiB: number | undefined;
  allocatorStats: Record<string, number> | undefined;
  error?: string;
  signal?: string;
  opIndex?: number;
  /** The allocator's last stderr lines, for a run that did not end ok. */
  stderrTail?: string[];
}

/** Plans a trace and registers it with the store. */
export function planTrace(store: Store, path: string): PlannedTrace {
  const plan = planFor(path);
  const name = basename(path).replace(/\.trace\.msgpack$/, '');
  const reader = openTrace(path);
  const header = reader.header;
  reader.close();
  const program = header.program ? { hash: programHash(header.program), identity: header.program } : undefined;
  const traceId = store.ensureTrace({ checksum: plan.checksum, name, path, events: plan.ops, producer: 'trace', ...(program ? { program } : {}) });
  return { path, name, plan, traceId, recorded: header.producer.kind === 'record' && header.hasTime, ...(header.program ? { program: header.program } : {}) };
}

/**
 * The replay options a recorded trace (a real program, with call times) gets
 * for what the user left open: the combination `npm run bench -- fidelity`
 * measured to predict the live program best, paced at the scale calibrated
 * for the trace on this machine (calibrate.ts). Synthetic traces keep the
 * plain back-to-back defaults.
 */
export const RECORDED_REPLAY: Required<Pick<ReplayOptions, 'touch' | 'pace'>> = { touch: 'none', pace: 'recorded' };

/**
 * The options a trace is replayed with: what was given, and for a recorded
 * trace RECORDED_REPLAY in place of what was left open; a paced replay with
 * no scale given takes the trace's calibrated one (else the default).
 */
export function replayFor(trace: Pick<PlannedTrace, 'recorded' | 'paceScale'>, options: ReplayOptions): ReplayOptions {
  const out = { ...options };
  if (trace.recorded && options.auto?.includes('touch')) out.touch = RECORDED_REPLAY.touch;
  if (trace.recorded && options.auto?.includes('pace')) out.pace = RECORDED_REPLAY.pace;
  if (out.pace === 'recorded' && out.paceScale === undefined) out.paceScale = (trace.recorded && trace.paceScale) || DEFAULT_PACE_SCALE;
  return out;
}

/** Registers the configuration of (target, options) and makes the job. */
export function makeJob(store: Store, trace: PlannedTrace, ready: ReadyTarget, given: ReplayOptions): Job {
  const options = replayFor(trace, given);
  const configuration = configurationOf(ready, options);
  const { id, hash } = store.ensureConfiguration(configuration);
  const replay: JobReplay = { mode: options.mode, touch: options.touch, warmup: options.warmup, ...(options.pace ? { pace: options.pace } : {}), ...(options.paceScale !== undefined ? { paceScale: options.paceScale } : {}) };
  return { trace, ready, configuration, configurationId: id, configHash: hash, label: labelConfigurations([configuration])[0]!, replay };
}

/** Every (trace, target) job, labelled by what differs between their configurations. */
export function makeJobs(store: Store, traces: PlannedTrace[], readies: ReadyTarget[], options: ReplayOptions): Job[] {
  // A default value and the same value given explicitly are one configuration: one job.
  const jobs = new Map<string, Job>();
  for (const t of traces)
    for (const r of readies) {
      const j = makeJob(store, t, r, options);
      if (!jobs.has(`${t.traceId}:${j.configHash}`)) jobs.set(`${t.traceId}:${j.configHash}`, j);
    }
  const list = [...jobs.values()];
  labelJobs(list);
  return list;
}

/** Labels jobs shown together by what differs between their configurations. */
export function labelJobs(jobs: Job[]): void {
  const byHash = new Map(jobs.map((j) => [j.configHash, j.configuration]));
  const labels = labelConfigurations([...byHash.values()]);
  const of = new Map([...byHash.keys()].map((h, i) => [h, labels[i]!]));
  for (const j of jobs) j.label = of.get(j.configHash)!;
}

function sampleFigures(store: Store, runs: RunRow[]): SampleFigures[] {
  return runs.flatMap((r) =>
    store.samples(r.id).map((s) => ({
      wallNs: s.wallNs,
      nsPerOp: s.nsPerOp,
      userUs: 0,
      sysUs: 0,
      maxRssKiB: s.maxRssKiB ?? 0,
      peakRssKiB: s.peakRssKiB ?? 0,
      ...(s.rssGrowthKiB !== null && s.peakRssKiB !== null ? { rssBaseKiB: s.peakRssKiB - s.rssGrowthKiB } : {}),
      minorFaults: 0,
      majorFaults: 0,
      volCtxSwitches: 0,
      invCtxSwitches: 0,
      ...(s.instructions !== null ? { instructions: s.instructions } : {}),
    })),
  );
}

/** The outcome of a job as the store holds it: the newest run's status, the ok runs' samples pooled. */
export function outcomeFromStore(store: Store, job: Job, metric: Metric, opts: { skipped: boolean; session?: number }): Outcome {
  const st = store.storedState(job.trace.traceId, job.configurationId, metric);
  const latest = st.latest;
  const okRuns = store.okRuns(job.trace.traceId, job.configurationId, metric).filter((r) => opts.session === undefined || r.session === opts.session);
  const status: RunStatus = latest?.status ?? 'failed';
  const samples = status === 'ok' ? sampleFigures(store, okRuns) : [];
  const ok = status === 'ok' && samples.length > 0;
  const ns = samples.map((s) => s.nsPerOp);
  const ins = samples.map((s) => s.instructions).filter((x): x is number => x !== undefined);
  const growth = samples.map((s) => (s.rssBaseKiB !== undefined ? Math.max(0, s.peakRssKiB - s.rssBaseKiB) : undefined)).filter((x): x is number => x !== undefined);
  return {
    trace: job.trace.name,
    target: job.ready.target.name,
    label: job.label,
    configHash: job.configHash,
    configuration: job.configuration,
    status,
    runId: latest?.id,
    skipped: opts.skipped,
    samples,
    nsPerOp: ok && metric === 'time' ? median(ns) : undefined,
    nsPerOpSpread: ok && metric === 'time' ? mad(ns) : undefined,
    instructions: ok && ins.length ? median(ins) : undefined,
    peakRssKiB: ok && growth.length ? Math.max(...growth) : undefined,
    allocatorStats: latest?.allocatorStats ?? undefined,
    ...(latest?.error ? { error: opts.skipped && status !== 'ok' ? `${latest.error} (stored; --retry-failed measures it again)` : latest.error } : {}),
    ...(latest?.signal ? { signal: latest.signal } : {}),
    ...(latest?.opIndex !== null && latest?.opIndex !== undefined ? { opIndex: latest.opIndex } : {}),
    ...(latest?.stderrTail?.length ? { stderrTail: latest.stderrTail } : {}),
  };
}

export interface MeasureHooks {
  /** Called before each driver process starts. */
  onStart?: (job: Job, round: number) => void;
  /** Called after each job's run is complete. */
  onDone?: (o: Outcome) => void;
  /** Called when a job waits for another process that is measuring it. */
  onWait?: (job: Job) => void;
}

/** How measure treats what is already stored. */
export interface ReuseOptions {
  /** Measure again whatever is stored. */
  force?: boolean;
  /** Measure again configurations whose newest run crashed, timed out or failed. */
  retryFailed?: boolean;
  /** Repetitions go round-robin across the jobs of a trace (time metric). */
  interleave?: boolean;
}

/** Repetitions a job still needs: 0 when what is stored is enough (or a stored failure stands). */
export function missingRepetitions(store: Store, job: Job, options: ReplayOptions, reuse: ReuseOptions): number {
  const want = options.metric === 'instructions' ? 1 : options.repeat;
  if (reuse.force) return want;
  const st = store.storedState(job.trace.traceId, job.configurationId, options.metric);
  if (st.latest && st.latest.status !== 'ok' && !reuse.retryFailed) return 0;
  return Math.max(0, want - st.okSamples);
}

/**
 * Measures jobs, storing every repetition as it finishes (a kill loses at
 * most the one in progress). What is stored already is reused: a job with
 * enough ok repetitions is skipped, one with fewer gets only the missing
 * ones; a stored failure stands unless `retryFailed`. Each job is claimed
 * in the database first, so concurrent processes never measure one twice: a
 * job another live process holds is waited for and then re-checked. With
 * the time metric and `interleave`, repetitions go round-robin across the
 * jobs of one trace (A B C A B C …, one driver process per repetition, each
 * with its own warm-up) so machine drift spreads evenly.
 */
export async function measure(store: Store, sessionId: number, jobs: Job[], options: ReplayOptions, reuse: ReuseOptions = {}, hooks: MeasureHooks = {}): Promise<Outcome[]> {
  const owner = `session-${sessionId}-${process.pid}`;
  const beat = setInterval(() => store.heartbeat(owner), 5_000);
  beat.unref();
  const measuredNow = new Set<Job>();
  try {
    let pending = jobs.filter((j) => missingRepetitions(store, j, options, reuse) > 0);
    let firstPass = true;
    while (pending.length) {
      const mine = pending.filter((j) => store.claim(j.trace.traceId, j.configurationId, options.metric, owner));
      const waiting = pending.filter((j) => !mine.includes(j));
      // Another process may have finished a job between our check and the claim.
      const todo = mine.filter((j) => firstPass || missingRepetitions(store, j, options, { ...reuse, force: false }) > 0);
      for (const j of todo) measuredNow.add(j);
      await measureClaimed(store, sessionId, todo, options, reuse, hooks, firstPass && reuse.force === true);
      for (const j of mine) store.release(owner, j.trace.traceId, j.configurationId, options.metric);
      if (waiting.length) {
        for (const j of waiting) hooks.onWait?.(j);
        await new Promise((r) => setTimeout(r, 500));
      }
      pending = waiting.filter((j) => missingRepetitions(store, j, options, { ...reuse, force: false }) > 0);
      firstPass = false;
    }
  } finally {
    clearInterval(beat);
    store.release(owner);
  }
  return jobs.map((j) => {
    const o = outcomeFromStore(store, j, options.metric, { skipped: !measuredNow.has(j), ...(reuse.force && measuredNow.has(j) ? { session: sessionId } : {}) });
    if (measuredNow.has(j)) hooks.onDone?.(o);
    return o;
  });
}

/** Runs the repetitions of claimed jobs, appending each to the job's run as it ends. */
async function measureClaimed(store: Store, sessionId: number, jobs: Job[], options: ReplayOptions, reuse: ReuseOptions, hooks: MeasureHooks, fresh: boolean): Promise<void> {
  const need = new Map(jobs.map((j) => [j, fresh ? (options.metric === 'instructions' ? 1 : options.repeat) : missingRepetitions(store, j, options, reuse)]));
  const runIds = new Map<Job, number>();
  const head = (job: Job) => ({
    sessionId,
    traceId: job.trace.traceId,
    configurationId: job.configurationId,
    ...(job.ready.buildId !== undefined ? { buildId: job.ready.buildId } : {}),
    metric: options.metric,
  });
  const done = new Set<Job>();
  /** Stores one driver run's outcome; false when the job should stop (it failed). */
  const storeRep = (job: Job, r: RunResult): boolean => {
    discardProfile(r);
    let id = runIds.get(job);
    if (r.status !== 'ok') {
      const end = { status: r.status, ...(r.error ? { error: r.error } : {}), ...(r.signal ? { signal: r.signal } : {}), ...(r.opIndex !== undefined ? { opIndex: r.opIndex } : {}), ...(r.stderrTail ? { stderrTail: r.stderrTail } : {}), ...(r.checks ? { checks: { ...r.checks } } : {}), ...(r.allocatorStats ? { allocatorStats: r.allocatorStats } : {}) };
      if (id === undefined) store.openRun({ ...head(job), ...end });
      else store.updateRun(id, end);
      done.add(job);
      return false;
    }
    // A run and its first samples are written together: a kill never leaves an ok run without samples (a resume would measure it again beside it).
    store.db.transaction(() => {
      if (id === undefined) {
        id = store.openRun({ ...head(job), status: 'ok', ...(r.series ? { series: r.series } : {}), ...(r.checks ? { checks: { ...r.checks } } : {}), ...(r.allocatorStats ? { allocatorStats: r.allocatorStats } : {}) });
        runIds.set(job, id);
      } else if (r.allocatorStats) store.updateRun(id, { allocatorStats: r.allocatorStats });
      for (const s of r.samples) store.appendSample(id, s);
    })();
    return true;
  };
  const failedBuild = (job: Job): RunResult => ({ status: 'failed', error: `build failed: ${job.ready.buildError}${job.ready.buildLog ? ` (log: ${job.ready.buildLog})` : ''}`, samples: [] });

  if (!reuse.interleave || options.metric === 'instructions') {
    for (const job of jobs) {
      hooks.onStart?.(job, 0);
      storeRep(job, job.ready.buildError ? failedBuild(job) : await runReplay(job.trace.plan, job.ready.target, { ...options, ...job.replay, repeat: need.get(job)! }));
    }
    return;
  }
  const rounds = Math.max(0, ...need.values());
  for (const j of jobs) if (j.ready.buildError) storeRep(j, failedBuild(j));
  for (let round = 0; round < rounds; round++) {
    for (const j of jobs) {
      if (done.has(j) || round >= need.get(j)!) continue;
      hooks.onStart?.(j, round);
      storeRep(j, await runReplay(j.trace.plan, j.ready.target, { ...options, ...j.replay, repeat: 1 }));
    }
  }
}

import type { Store } from '../../reports/index.js';
import type { Config } from '../config/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { calibrateTraces } from './calibrate.js';
import { type Job, makeJobs, measure, type Outcome, planTrace } from './measure.js';
import type { ReadyTarget } from '../identity/index.js';
import { readyTargets } from './targets.js';

/** The targets a command measures under: one flag assignment and runtime env for all (replay, live). */
export interface TargetsSpec {
  targets: string[];
  set: Record<string, string>;
  env: Record<string, string>;
  config: Config | undefined;
  dirty: boolean;
  /** Training trace files of a profile-guided build of the source targets. */
  pgo?: string[];
}

/** What `allocreplay replay` asks for: traces × targets. */
export interface ReplaySpec extends TargetsSpec {
  /** Trace files (allocreplay.yaml names already resolved). */
  traces: string[];
  options: ReplayOptions;
}

export interface ReplayHooks {
  /** A trace is being planned. */
  onPlanning?: (trace: string) => void;
  /** A line about building or finding a target. */
  onLog?: (line: string) => void;
  /** How many repetitions will run in all. */
  onTotal?: (repetitions: number) => void;
  onStart?: (job: Job) => void;
}

/**
 * plan → targets → jobs → measure, always measuring (a replay is a fresh
 * measurement; matrix is the command that reuses stored runs). Returns the
 * outcomes and the targets, whose build errors the caller reports.
 */
export async function replayTraces(store: Store, session: number, spec: ReplaySpec, hooks: ReplayHooks = {}): Promise<{ outcomes: Outcome[]; ready: ReadyTarget[] }> {
  const planned = spec.traces.map((t) => {
    hooks.onPlanning?.(t);
    return planTrace(store, t);
  });
  const pgo = spec.pgo?.length ? { training: spec.pgo.map((t) => planTrace(store, t)), replay: spec.options } : undefined;
  const ready = await readyTargets(store, spec.targets, spec.set, spec.env, hooks.onLog, spec.config, { dirty: spec.dirty, ...(pgo ? { pgo } : {}) });
  await calibrateTraces(store, planned, spec.options, hooks.onLog);
  const jobs = makeJobs(store, planned, ready, spec.options);
  hooks.onTotal?.(jobs.length * (spec.options.metric === 'time' ? spec.options.repeat : 1));
  const outcomes = await measure(store, session, jobs, spec.options, { interleave: true, force: true }, { ...(hooks.onStart ? { onStart: (j: Job) => hooks.onStart!(j) } : {}) });
  return { outcomes, ready };
}

import type { Store } from '../../reports/index.js';
import { usageError } from '../../traces/index.js';
import { checkFlagName, expandRevs, isGitRepo } from '../build/index.js';
import { buildWithPgo, type PgoTraining } from '../build/pgo.js';
import type { Config, ConfigMatrix } from '../config/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { type MeasureHooks, makeJobs, measure, missingRepetitions, type Outcome, planTrace, type ReadyTarget } from './measure.js';
import { flagsFor, readyBuilt, readyPackaged, readySource, resolveTargetSpec } from './targets.js';

/** A matrix as allocreplay.yaml names one (trace files resolved), plus how to measure it. */
export interface MatrixSpec extends ConfigMatrix {
  options: ReplayOptions;
  /** Measure again everything stored. */
  force: boolean;
  /** Measure again configurations whose stored run failed, crashed or timed out (and rebuild failed builds). */
  retryFailed?: boolean;
  /** Build uncommitted changes of source repositories at HEAD. */
  dirty?: boolean;
  /** Build every source configuration with profile-guided optimisation trained on these traces (engine/build/pgo). */
  pgo?: PgoTraining[];
}

export interface MatrixResult {
  outcomes: Outcome[];
  configurations: number;
  skipped: number;
  measured: number;
  builds: { done: number; cached: number; failed: number };
}

/** The cartesian product of axes: [{A:1,B:x}, {A:1,B:y}, …]. */
export function cartesian(axes: Record<string, string[]>): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries(axes)) out = out.flatMap((a) => values.map((v) => ({ ...a, [name]: v })));
  return out;
}

function excluded(assignment: Record<string, string>, rules: Record<string, string>[]): boolean {
  return rules.some((r) => Object.entries(r).every(([k, v]) => assignment[k] === v));
}

export function parseExclude(text: string): Record<string, string> {
  const rule: Record<string, string> = {};
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const m = /^([^=]+)=(.*)$/.exec(part);
    if (!m) throw usageError(`--exclude '${text}': expected NAME=value[,NAME=value…]`, "for example --exclude 'TS_POOL=2,TS_TLS_CACHE=0'");
    rule[checkFlagName(m[1]!, `--exclude '${text}'`)] = m[2]!;
  }
  return rule;
}

/**
 * Runs a matrix: traces × targets × revisions × flag axes, minus
 * exclusions. What is stored is reused (see `measure`): configurations with
 * enough ok repetitions are skipped unless `force`, so an interrupted
 * matrix resumes where it stopped, keeping every finished repetition.
 */
export async function runMatrix(store: Store, sessionId: number, spec: MatrixSpec, config: Config | undefined, hooks: MeasureHooks & { onBuild?: (label: string, r: ReadyTarget & { cached: boolean }) => void; onPlan?: (total: number, skipped: number) => void } = {}): Promise<MatrixResult> {
  const rules = spec.exclude.map(parseExclude);
  const traces = spec.traces.map((t) => planTrace(store, t));
  const readies: ReadyTarget[] = [];
  const builds = { done: 0, cached: 0, failed: 0 };
  const runtimeAxes = cartesian(spec.env);
  const specs = spec.targets.map((name) => resolveTargetSpec(name, config));
  const split = flagsFor(specs, spec.set);
  if (spec.pgo?.length && !specs.some((s) => s.kind === 'source')) throw usageError('--pgo builds source targets, and none is given', 'add a source target, e.g. -t tinyslab');
  for (const ts of specs) {
    if (ts.kind === 'packaged') {
      for (const env of runtimeAxes) if (!excluded(env, rules)) readies.push(readyPackaged(ts.target, env));
      continue;
    }
    const revs = spec.revs.length ? (isGitRepo(ts.source.repo) && !ts.source.folder ? expandRevs(ts.source.repo, spec.revs) : spec.revs) : [undefined];
    for (const rev of revs) {
      for (const assignment of cartesian(split.get(ts)!)) {
        for (const env of runtimeAxes) {
          if (excluded({ ...assignment, ...env }, rules)) continue;
          const buildOpts = { dirty: spec.dirty ?? false, retryFailed: spec.retryFailed ?? false };
          const r = spec.pgo?.length
            ? readyBuilt(ts.source, await buildWithPgo(ts.source, spec.pgo, { ...buildOpts, ...(rev ? { rev } : {}), flags: assignment, store, replay: spec.options }), assignment, env)
            : readySource(store, ts.source, rev, assignment, env, buildOpts);
          if (r.buildError) builds.failed++;
          else if (r.cached) builds.cached++;
          else builds.done++;
          hooks.onBuild?.(`${ts.name}${rev ? `@${rev}` : ''} ${Object.entries(assignment).map(([k, v]) => `${k}=${v}`).join(' ')}`, r);
          readies.push(r);
        }
      }
    }
  }
  const jobs = makeJobs(store, traces, readies, spec.options);
  const reuse = { force: spec.force, retryFailed: spec.retryFailed ?? false, interleave: true };
  const todo = jobs.filter((j) => missingRepetitions(store, j, spec.options, reuse) > 0).length;
  hooks.onPlan?.(todo, jobs.length - todo);
  const outcomes = await measure(store, sessionId, jobs, spec.options, reuse, hooks);
  const measured = outcomes.filter((o) => !o.skipped).length;
  return { outcomes, configurations: jobs.length, skipped: jobs.length - measured, measured, builds };
}

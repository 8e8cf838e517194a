import type { Store } from '../../reports/index.js';
import { usageError } from '../../traces/index.js';
import type { Config, ConfigMatrix } from '../config/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { type Job, makeJob, measure, type MeasureHooks, type Outcome, outcomeFromStore, planTrace, type ReadyTarget } from './index.js';
import { readySource, resolveTargetSpec } from './targets.js';

/** A matrix as allocreplay.yaml names one (trace files resolved), plus how to measure it. */
export interface MatrixSpec extends ConfigMatrix {
  options: ReplayOptions;
  force: boolean;
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
    const m = /^([\w.]+)=(.*)$/.exec(part);
    if (!m) throw usageError(`--exclude '${text}': expected NAME=value[,NAME=value…]`, "for example --exclude 'TS_POOL=2,TS_TLS_CACHE=0'");
    rule[m[1]!] = m[2]!;
  }
  return rule;
}

/**
 * Runs a matrix: traces × targets × revisions × flag axes, minus
 * exclusions. Configurations already measured on this machine (same trace,
 * configuration hash and metric) are skipped unless `force`; so an
 * interrupted matrix resumes where it stopped.
 */
export async function runMatrix(store: Store, sessionId: number, spec: MatrixSpec, config: Config | undefined, hooks: MeasureHooks & { onBuild?: (label: string, r: ReadyTarget & { cached: boolean }) => void; onPlan?: (total: number, skipped: number) => void } = {}): Promise<MatrixResult> {
  const rules = spec.exclude.map(parseExclude);
  const traces = spec.traces.map((t) => planTrace(store, t));
  const readies: ReadyTarget[] = [];
  const builds = { done: 0, cached: 0, failed: 0 };
  const runtimeAxes = cartesian(spec.env);
  for (const name of spec.targets) {
    const ts = resolveTargetSpec(name, config);
    if (ts.kind === 'packaged') {
      for (const env of runtimeAxes) {
        if (excluded(env, rules)) continue;
        readies.push({ target: { ...ts.target, env: { ...ts.target.env, ...env } }, flags: {} });
      }
      continue;
    }
    const revs = spec.revs.length ? spec.revs : [undefined];
    for (const rev of revs) {
      for (const assignment of cartesian(spec.set)) {
        for (const env of runtimeAxes) {
          if (excluded({ ...assignment, ...env }, rules)) continue;
          const r = readySource(store, ts.source, rev, assignment, env);
          if (r.buildError) builds.failed++;
          else if (r.cached) builds.cached++;
          else builds.done++;
          hooks.onBuild?.(`${name}${rev ? `@${rev}` : ''} ${Object.entries(assignment).map(([k, v]) => `${k}=${v}`).join(' ')}`, r);
          readies.push(r);
        }
      }
    }
  }
  const jobs: Job[] = traces.flatMap((t) => readies.map((r) => makeJob(store, t, r, spec.options)));
  const todo: Job[] = [];
  const outcomes = new Map<Job, Outcome>();
  for (const j of jobs) {
    const done = spec.force ? undefined : store.completedRun(j.trace.traceId, j.configurationId, spec.options.metric);
    if (done) outcomes.set(j, outcomeFromStore(store, j, done.id, spec.options.metric));
    else todo.push(j);
  }
  hooks.onPlan?.(todo.length, jobs.length - todo.length);
  const measured = await measure(store, sessionId, todo, spec.options, true, hooks);
  todo.forEach((j) => {
    const o = measured.find((m) => m.configHash === j.configHash && m.trace === j.trace.name);
    if (o) outcomes.set(j, o);
  });
  return {
    outcomes: jobs.map((j) => outcomes.get(j)).filter((o): o is Outcome => o !== undefined),
    configurations: jobs.length,
    skipped: jobs.length - todo.length,
    measured: todo.length,
    builds,
  };
}

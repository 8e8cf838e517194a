import { canonicalJson, type Store } from '../../reports/index.js';
import { usageError } from '../../traces/index.js';
import { buildKey, checkFlagName, expandRevs, flagArgs, fullAssignment, isGitRepo, resolveRevision, type SourceTarget } from '../build/index.js';
import { buildWithPgo, type PgoTraining } from '../build/pgo.js';
import type { Config, ConfigMatrix } from '../config/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { calibrateTraces } from './calibrate.js';
import { type MeasureHooks, makeJobs, measure, missingRepetitions, type Outcome, type PlannedTrace, planTrace } from './measure.js';
import type { ReadyTarget } from '../identity/index.js';
import { BUILD_COST, partition, type Shard, type ShardUnit, unitKey } from '../shard/index.js';
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
  /** Measure only this part of the matrix (engine/shard). */
  shard?: Shard;
}

export interface MatrixResult {
  outcomes: Outcome[];
  configurations: number;
  skipped: number;
  measured: number;
  builds: { done: number; cached: number; failed: number };
  /** With a shard: the whole matrix's size and this shard's share. */
  shard?: Shard & { units: number; mine: number; cost: number; totalCost: number };
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
  await calibrateTraces(store, traces, spec.options);
  const builds = { done: 0, cached: 0, failed: 0 };
  const runtimeAxes = cartesian(spec.env);
  const specs = spec.targets.map((name) => resolveTargetSpec(name, config));
  const split = flagsFor(specs, spec.set);
  if (spec.pgo?.length && !specs.some((s) => s.kind === 'source')) throw usageError('--pgo builds source targets, and none is given', 'add a source target, e.g. -t tinyslab');
  // Everything the matrix holds is listed before anything is built, so a shard builds only its own part.
  const packaged: ReadyTarget[] = [];
  const sources: { source: SourceTarget; label: string; rev: string | undefined; assignment: Record<string, string>; env: Record<string, string>; unit: string }[] = [];
  for (const ts of specs) {
    if (ts.kind === 'packaged') {
      for (const env of runtimeAxes) if (!excluded(env, rules)) packaged.push(readyPackaged(ts.target, env));
      continue;
    }
    const revs = spec.revs.length ? (isGitRepo(ts.source.repo) && !ts.source.folder ? expandRevs(ts.source.repo, spec.revs) : spec.revs) : [undefined];
    for (const rev of revs) {
      const revision = resolveRevision(ts.source, rev, { dirty: spec.dirty ?? false });
      for (const assignment of cartesian(split.get(ts)!)) {
        // One build: its key is the same on every machine (commit, command, compile-time flags).
        const unit = unitKey('build', buildKey(ts.source, revision, flagArgs(ts.source.flags, fullAssignment(ts.name, ts.source.flags, assignment)).compile));
        const label = `${ts.name}${rev ? `@${rev}` : ''} ${Object.entries(assignment).map(([k, v]) => `${k}=${v}`).join(' ')}`;
        for (const env of runtimeAxes) if (!excluded({ ...assignment, ...env }, rules)) sources.push({ source: ts.source, label, rev, assignment, env, unit });
      }
    }
  }
  const reps = spec.options.metric === 'instructions' ? 1 : spec.options.repeat;
  const events = traces.reduce((n, t) => n + t.plan.ops, 0);
  const packagedUnit = (r: ReadyTarget, t: PlannedTrace): string => unitKey('run', canonicalJson(r.identity), canonicalJson(r.target.env), t.plan.checksum);
  const units: ShardUnit[] = [
    ...[...new Set(sources.map((s) => s.unit))].map((key) => ({ key, cost: BUILD_COST })),
    ...sources.map((s) => ({ key: s.unit, cost: events * reps })),
    ...packaged.flatMap((r) => traces.map((t) => ({ key: packagedUnit(r, t), cost: t.plan.ops * reps }))),
  ];
  const owner = spec.shard ? partition(units, spec.shard.count) : undefined;
  const mine = (key: string): boolean => !owner || owner.get(key) === spec.shard!.index;
  const readies: ReadyTarget[] = [...packaged];
  for (const s of sources) {
    if (!mine(s.unit)) continue;
    const buildOpts = { dirty: spec.dirty ?? false, retryFailed: spec.retryFailed ?? false };
    const r = spec.pgo?.length
      ? readyBuilt(s.source, await buildWithPgo(s.source, spec.pgo, { ...buildOpts, ...(s.rev ? { rev: s.rev } : {}), flags: s.assignment, store, replay: spec.options }), s.assignment, s.env)
      : readySource(store, s.source, s.rev, s.assignment, s.env, buildOpts);
    if (r.buildError) builds.failed++;
    else if (r.cached) builds.cached++;
    else builds.done++;
    hooks.onBuild?.(s.label, r);
    readies.push(r);
  }
  const jobs = makeJobs(store, traces, readies, spec.options).filter((j) => j.ready.identity.kind === 'source' || mine(packagedUnit(j.ready, j.trace)));
  const reuse = { force: spec.force, retryFailed: spec.retryFailed ?? false, interleave: true };
  const todo = jobs.filter((j) => missingRepetitions(store, j, spec.options, reuse) > 0).length;
  hooks.onPlan?.(todo, jobs.length - todo);
  const outcomes = await measure(store, sessionId, jobs, spec.options, reuse, hooks);
  const measured = outcomes.filter((o) => !o.skipped).length;
  const result: MatrixResult = { outcomes, configurations: jobs.length, skipped: jobs.length - measured, measured, builds };
  if (spec.shard && owner) {
    const cost = new Map<string, number>();
    for (const u of units) cost.set(u.key, (cost.get(u.key) ?? 0) + u.cost);
    const my = [...owner].filter(([, i]) => i === spec.shard!.index).map(([k]) => k);
    result.shard = { ...spec.shard, units: owner.size, mine: my.length, cost: my.reduce((n, k) => n + cost.get(k)!, 0), totalCost: [...cost.values()].reduce((a, b) => a + b, 0) };
  }
  return result;
}

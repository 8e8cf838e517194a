import { existsSync } from 'node:fs';
import { usageError } from '../../traces/index.js';
import type { Store } from '../../reports/index.js';
import { type BuildOptions, type BuildResult, buildSource, flagArgs, fullAssignment, type SourceTarget, tinyslabTarget, undeclaredFlag, artifactText } from '../build/index.js';
import { buildWithPgo, type PgoTraining } from '../build/pgo.js';
import type { Config, ConfigTarget } from '../config/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { listTargets, resolveTarget, type Target, type TargetAvailability } from '../targets/index.js';
import type { ReadyTarget } from '../identity/index.js';

/** A target name resolved: a packaged/preload allocator, or one built from source. */
export type TargetSpec = { kind: 'packaged'; name: string; target: Target } | { kind: 'source'; name: string; source: SourceTarget };

/**
 * Resolves a target name: allocreplay.yaml's targets first, then `tinyslab`,
 * then packaged allocators and .so paths.
 */
export function resolveTargetSpec(name: string, config?: Config): TargetSpec {
  const t = config?.targets[name];
  if (t) {
    if (t.kind === 'source') return { kind: 'source', name, source: t };
    if (t.kind === 'system') return { kind: 'packaged', name, target: { name, kind: 'system', env: t.env } };
    return { kind: 'packaged', name, target: { name, kind: 'preload', library: t.library, env: t.env } };
  }
  if (name === 'tinyslab') return { kind: 'source', name, source: tinyslabTarget() };
  return { kind: 'packaged', name, target: resolveTarget(name) };
}

/**
 * Splits flag values given for several targets: each target takes the flags
 * it declares. A flag no target declares is a usage error ("did you mean"),
 * so a typo never becomes a silent `-D` and a packaged allocator never pools
 * its runs under a flag it cannot have.
 */
export function flagsFor(specs: TargetSpec[], given: Record<string, string[]>): Map<TargetSpec, Record<string, string[]>> {
  const out = new Map<TargetSpec, Record<string, string[]>>(specs.map((s) => [s, {}]));
  for (const [name, values] of Object.entries(given)) {
    const takers = specs.filter((s) => s.kind === 'source' && s.source.flags[name]);
    if (takers.length === 0) {
      const sources = specs.filter((s): s is Extract<TargetSpec, { kind: 'source' }> => s.kind === 'source');
      const first = sources[0] ?? specs[0];
      throw undeclaredFlag(name, sources.length ? sources.map((s) => s.name).join(', ') : `${first?.name ?? '(none)'} (no build)`, sources.flatMap((s) => Object.keys(s.source.flags)));
    }
    for (const t of takers) out.get(t)![name] = values;
  }
  return out;
}

/** A packaged or preload target ready to run: nothing to build. */
export function readyPackaged(target: Target, runtimeEnv: Record<string, string> = {}): ReadyTarget {
  return {
    target: { ...target, env: { ...target.env, ...runtimeEnv } },
    identity: target.kind === 'system' ? { kind: 'system' } : { kind: 'preload', ...(target.library ? { library: target.library } : {}) },
    revision: null,
    dirty: null,
    flags: {},
  };
}

/** Builds (cached) a source target at a revision with an assignment of its flags (defaults filled in). */
export function readySource(store: Store, source: SourceTarget, rev: string | undefined, given: Record<string, string>, runtimeEnv: Record<string, string> = {}, opts: Pick<BuildOptions, 'dirty' | 'force' | 'retryFailed'> = {}): ReadyTarget & { cached: boolean } {
  return readyBuilt(source, buildSource(source, { ...(rev ? { rev } : {}), flags: given, store, ...opts }), given, runtimeEnv);
}

/** A source target ready to replay from its build result (plain, or profile-guided when `b.pgo` is set). */
export function readyBuilt(source: SourceTarget, b: BuildResult & { buildId?: number; pgo?: { training: string[] } }, given: Record<string, string>, runtimeEnv: Record<string, string> = {}): ReadyTarget & { cached: boolean } {
  const runtime = flagArgs(source.flags, fullAssignment(source.name, source.flags, given)).env;
  const target: Target = { name: source.name, kind: 'source', env: { ...(source.env ?? {}), ...runtime, ...runtimeEnv } };
  if (b.artifactPath) target.library = b.artifactPath;
  return {
    target,
    identity: { kind: 'source', repo: source.repo, build: source.build, artifact: artifactText(source) },
    revision: b.commit,
    dirty: b.dirty,
    flags: b.compile,
    ...(b.pgo ? { pgo: b.pgo } : {}),
    ...(b.buildId !== undefined ? { buildId: b.buildId } : {}),
    ...(b.status === 'failed' ? { buildError: failureSummary(b.logTail), buildLog: b.logPath } : {}),
    cached: b.cached,
  };
}

/**
 * Turns target names into targets ready to replay (replay's single
 * configuration per target): source targets built with the flags they declare.
 */
export async function readyTargets(
  store: Store,
  specs: string[],
  set: Record<string, string>,
  env: Record<string, string>,
  log: (line: string) => void = () => {},
  config?: Config,
  opts: Pick<BuildOptions, 'dirty' | 'force' | 'retryFailed'> & { pgo?: { training: PgoTraining[]; replay: Pick<ReplayOptions, 'mode' | 'touch' | 'timeoutMs'> } } = {},
): Promise<ReadyTarget[]> {
  const resolved = specs.map((s) => resolveTargetSpec(s, config));
  const split = flagsFor(resolved, Object.fromEntries(Object.entries(set).map(([k, v]) => [k, [v]])));
  if (opts.pgo && !resolved.some((s) => s.kind === 'source')) throw usageError('--pgo builds source targets, and none is given', 'add a source target, e.g. -t tinyslab');
  const out: ReadyTarget[] = [];
  for (const spec of resolved) {
    if (spec.kind === 'packaged') {
      out.push(readyPackaged(spec.target, env));
      continue;
    }
    const given = Object.fromEntries(Object.entries(split.get(spec)!).map(([k, v]) => [k, v[0]!]));
    const { pgo, ...build } = opts;
    const r = pgo ? readyBuilt(spec.source, await buildWithPgo(spec.source, pgo.training, { ...build, flags: given, store, replay: pgo.replay }), given, env) : readySource(store, spec.source, undefined, given, env, build);
    out.push(r);
    log(`${spec.name}: ${pgo ? 'profile-guided ' : ''}build ${r.buildError ? 'FAILED' : r.cached ? 'cached' : 'done'}${r.buildError ? `: ${r.buildError} (log: ${r.buildLog})` : ''}`);
  }
  return out;
}

/** The line a person wants from a failed build's log: its first error, and how it ended. */
function failureSummary(tail: string[]): string {
  const error = tail.find((l) => /\berror\b/i.test(l) && !/^\$ /.test(l));
  return [error?.trim(), tail.at(-1)?.trim()].filter((l, i, a) => l && a.indexOf(l) === i).join(' | ');
}

/** A target as `target list` shows it, and where it comes from (`built in` or the config file). */
export interface ListedTarget extends Omit<TargetAvailability, 'kind'> {
  kind: TargetAvailability['kind'] | 'source';
  from: string;
}

/** A target of allocreplay.yaml: available when its library or repository is there. */
function configuredTarget(name: string, t: ConfigTarget, file: string): ListedTarget {
  if (t.kind === 'preload') return { name, kind: 'preload', available: existsSync(t.library), ...(existsSync(t.library) ? { library: t.library } : { why: `${t.library} does not exist (fix targets.${name}.library)` }), from: file };
  if (t.kind === 'source') return { name, kind: 'source', available: existsSync(t.repo), why: existsSync(t.repo) ? `built from ${t.repo}` : `${t.repo} does not exist (fix targets.${name}.repo)`, from: file };
  return { name, kind: 'system', available: true, why: "the C library's malloc with this target's env", from: file };
}

/** Every target a replay can name here: the packaged allocators, the bundled tinyslab, and the config's targets. */
export function availableTargets(config: Config | undefined): ListedTarget[] {
  const bundled = tinyslabTarget();
  return [
    ...listTargets().map((t) => ({ ...t, from: 'built in' })),
    { name: bundled.name, kind: 'source', available: true, why: `bundled reference allocator, built from ${bundled.repo} on first use`, from: 'built in' },
    ...Object.entries(config?.targets ?? {}).map(([name, t]) => configuredTarget(name, t, config!.path)),
  ];
}

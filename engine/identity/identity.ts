/**
 * The one function that says what a configuration is. Everything that
 * stores, reuses, selects or labels results goes through `configurationOf`,
 * so a default value and the same value given explicitly are one
 * configuration, and two configurations that measure differently never share
 * a hash.
 */
import { type Configuration, machineKey, type MeasureOptions, type Store, type TargetIdentity } from '../../reports/index.js';
import { commitOf } from '../build/index.js';
import { DEFAULT_PACE_SCALE, type ReplayOptions } from '../driver/index.js';
import type { Target } from '../targets/index.js';

/** A target ready to replay through: its library is built and its identity known. */
export interface ReadyTarget {
  target: Target;
  identity: TargetIdentity;
  /** Commit or folder hash (source targets), else null. */
  revision: string | null;
  /** Hash of uncommitted changes built (--dirty), else null. */
  dirty: string | null;
  /** Compile-time flags it was built with, declared defaults filled in. */
  flags: Record<string, string>;
  buildId?: number;
  /** Set when the build failed: every run of it is recorded as failed. */
  buildError?: string;
  /** The failed build's log file. */
  buildLog?: string;
  /** Built with profile-guided optimisation on these training traces (engine/build/pgo). */
  pgo?: { training: string[] };
}

let machine: string | undefined;

/** The canonical configuration of a ready target measured with `options` on this machine. */
export function configurationOf(ready: ReadyTarget, options: MeasureOptions | Pick<ReplayOptions, 'mode' | 'touch' | 'warmup' | 'pace' | 'paceScale'>): Configuration {
  machine ??= machineKey();
  const sorted = (o: Record<string, string>): Record<string, string> => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
  return {
    name: ready.target.name,
    target: ready.identity,
    revision: ready.revision,
    dirty: ready.dirty,
    flags: sorted(ready.flags),
    env: sorted(ready.target.env),
    options: { mode: options.mode, touch: options.touch, warmup: options.warmup, ...paceOf(options) },
    machine,
    ...(ready.pgo ? { pgo: { training: [...ready.pgo.training] } } : {}),
  };
}

/** The pacing part of a configuration: nothing for the default (pace=none), else the mode and its scale (defaults filled in). */
export function paceOf(options: Pick<ReplayOptions, 'pace' | 'paceScale'>): { pace?: 'recorded'; paceScale?: number } {
  return options.pace === 'recorded' ? { pace: 'recorded', paceScale: options.paceScale ?? DEFAULT_PACE_SCALE } : {};
}

/**
 * Rewrites the `rev=` parts of a selector so that any git ref works: each is
 * resolved in the given repositories and in every source repository the
 * store's configurations name; the commits it names there replace it
 * (`rev=a|b` when repositories disagree). A ref no repository knows stays a
 * commit prefix.
 */
export function resolveSelectorRevisions(store: Store, text: string, repos: string[] = []): string {
  if (!/(^|[\s,])rev=/.test(text)) return text;
  const known = (store.db.prepare("SELECT DISTINCT json_extract(identity, '$.target.repo') AS repo FROM configurations WHERE json_extract(identity, '$.target.repo') IS NOT NULL").all() as { repo: string }[]).map((r) => r.repo);
  const all = [...new Set([...repos, ...known])];
  return text.replace(/(^|[\s,])rev=([^\s,]+)/g, (_whole, sep: string, ref: string) => {
    const commits = [...new Set(all.map((r) => commitOf(r, ref)).filter((c): c is string => c !== undefined))];
    return `${sep}rev=${commits.length ? commits.join('|') : ref}`;
  });
}

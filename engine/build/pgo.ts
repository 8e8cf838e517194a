/**
 * Profile-guided builds of source targets: an instrumented build
 * (`-fprofile-generate`), the training traces replayed through it to collect
 * profiles, then the optimised build (`-fprofile-use`) from those profiles.
 * The training traces' checksums are part of the build key and of the
 * configuration (ReadyTarget.pgo → Configuration.pgo): another training set
 * is another configuration. Needs GCC or Clang behind `{cflags}`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { cacheDir, usageError } from '../../traces/index.js';
import { type ReplayOptions, runReplay } from '../driver/index.js';
import type { Plan } from '../plan/index.js';
import { type BuildOptions, type BuildResult, buildSource } from './build.js';
import { fullAssignment } from './flags.js';
import { resolveRevision } from './revision.js';
import type { SourceTarget } from './source.js';

/** A training trace: its plan (the checksum identifies it) and a name for messages. */
export interface PgoTraining {
  name: string;
  plan: Plan;
}

/** What a profile-guided configuration adds to its identity: the training traces' checksums, sorted. */
export interface PgoIdentity {
  training: string[];
}

/** The identity of a training set: the same traces in any order are one set. */
export function pgoIdentity(training: PgoTraining[]): PgoIdentity {
  return { training: [...new Set(training.map((t) => t.plan.checksum))].sort() };
}

const GENERATE = '-fprofile-generate -fprofile-update=atomic';
// Code the training never reached keeps its normal optimisation instead of being treated as cold; a unit
// compiled without its profile is warned about (-Wmissing-profile), and that warning fails the build below.
const USE = '-fprofile-use -fprofile-partial-training -Wmissing-profile';
const MISSING_PROFILE = /\[-Wmissing-profile\]/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** A build step's result (the instrumented or the optimised build) turned into the failure of the profile-guided build. */
function trainingFailed(generate: BuildResult & { buildId?: number }, line: string, pgo: PgoIdentity): BuildResult & { buildId?: number; pgo: PgoIdentity } {
  const { artifactPath: _unused, ...rest } = generate;
  return { ...rest, status: 'failed', logTail: [...generate.logTail, line], cached: false, pgo };
}

/**
 * Builds `source` at `rev` with profile-guided optimisation trained on
 * `training` (cached: profiles and both builds are made once per commit,
 * flags and training set). A failed instrumented build or training replay
 * is a failed build result, like any other build failure (its runs are
 * recorded as failed).
 */
export async function buildWithPgo(
  source: SourceTarget,
  training: PgoTraining[],
  opts: Pick<BuildOptions, 'rev' | 'flags' | 'dirty' | 'store' | 'force' | 'retryFailed'> & { replay: Pick<ReplayOptions, 'mode' | 'touch' | 'timeoutMs'> },
): Promise<BuildResult & { buildId?: number; pgo: PgoIdentity }> {
  if (!training.length) throw usageError('--pgo needs at least one training trace', 'name the traces to train on, e.g. --pgo rm256.trace.msgpack,th16.trace.msgpack');
  if (!source.build.includes('{cflags}')) throw usageError(`target ${source.name}: a profile-guided build needs {cflags} in its build command`, `add {cflags} to the compiler flags of '${source.build}'`);
  const pgo = pgoIdentity(training);
  const revision = resolveRevision(source, opts.rev, { dirty: opts.dirty ?? false });
  const assignment = fullAssignment(source.name, source.flags, opts.flags ?? {});
  const profileKey = createHash('sha256').update(JSON.stringify([revision.commit, revision.dirty, source.repo, source.build, assignment, pgo.training])).digest('hex').slice(0, 32);
  const profiles = cacheDir('pgo', profileKey);
  const done = join(profiles, 'complete');
  // A git commit is pinned, so all three steps build the same one; a plain folder is built as it is.
  const base = { ...opts, ...(revision.commit.startsWith('dir-') ? {} : { rev: revision.commit }) };
  const use = (): BuildResult & { buildId?: number; pgo: PgoIdentity } => {
    const gcda = files(profiles).filter((f) => f.endsWith('.gcda'));
    const built = buildSource(source, { ...base, variant: { key: `pgo-use ${pgo.training.join(',')}`, cflags: USE, files: gcda.map((f) => [f, relative(profiles, f)]) } });
    // A profile the compiler did not find is optimisation that silently did not happen: say so, as a failed build.
    const missing = built.status === 'ok' ? readFileSync(built.logPath, 'utf8').split('\n').filter((l) => MISSING_PROFILE.test(l)) : [];
    if (missing.length) return trainingFailed(built, `error: the optimised build found no profile for ${missing.length} unit${missing.length === 1 ? '' : 's'} (${missing[0]!.trim()}): the training's profiles were not read`, pgo);
    return { ...built, pgo };
  };
  if (existsSync(done) && !opts.force) return use();
  const generate = buildSource(source, { ...base, variant: { key: 'pgo-generate', cflags: GENERATE } });
  if (generate.status !== 'ok' || !generate.artifactPath) return { ...generate, pgo };
  // The instrumented library writes its profiles under the path its objects were compiled at (the build's
  // private copy, gone by now): GCOV_PREFIX puts them here instead, minus that copy's own directories.
  for (const f of files(profiles)) rmSync(f);
  const strip = cacheDir('worktrees').split(sep).filter(Boolean).length + 1;
  for (const t of training) {
    const env = { ...(source.env ?? {}), GCOV_PREFIX: profiles, GCOV_PREFIX_STRIP: String(strip) };
    const r = await runReplay(t.plan, { name: source.name, kind: 'source', library: generate.artifactPath, env }, { ...opts.replay, repeat: 1, warmup: 0, metric: 'time' });
    // A training replay that crashes or fails is this build's failure, recorded like any other (not cached: tried again next time).
    if (r.status !== 'ok') return trainingFailed(generate, `error: training on ${t.name} ended ${r.status}${r.error ? ` (${r.error})` : ''}`, pgo);
  }
  if (!files(profiles).some((f) => f.endsWith('.gcda'))) return trainingFailed(generate, 'error: the training replays wrote no profile (the compiler behind {cflags} must be GCC with -fprofile-generate)', pgo);
  writeFileSync(done, `${training.map((t) => `${t.plan.checksum} ${t.name}`).join('\n')}\n`);
  return use();
}

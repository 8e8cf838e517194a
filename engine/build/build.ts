import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimBuildDir, syncSources } from './incremental.js';
import { type BuildStatus, cacheDir, packagePath } from '../../traces/index.js';
import { expand, flagArgs, fullAssignment } from './flags.js';
import { lockBuild } from './lock.js';
import { folderFiles, resolveRevision, type Revision } from './revision.js';
import type { SourceTarget } from './source.js';

export interface BuildResult {
  status: BuildStatus;
  key: string;
  /** The commit (git) or content hash (plain folder) that was built. */
  commit: string;
  /** Hash of uncommitted changes built with it (--dirty), else null. */
  dirty: string | null;
  /** Compile-time flags, declared defaults filled in. */
  compile: Record<string, string>;
  artifactPath?: string;
  logTail: string[];
  logPath: string;
  cached: boolean;
  durationMs: number;
}

/** The store's side of builds, typed structurally (reports/store implements it). */
export interface BuildStore {
  recordBuild(b: { key: string; target: string; repo?: string; revision?: string; command: string; flags: Record<string, string>; status: BuildStatus; artifact?: string; log: string; durationMs: number }): number;
}

/** The bundled reference allocator, engine/allocators/tinyslab. */
export function tinyslabTarget(): SourceTarget {
  const values01 = { kind: 'define' as const, values: ['0', '1'] };
  return {
    name: 'tinyslab',
    repo: packagePath('engine', 'allocators', 'tinyslab'),
    folder: true,
    build: "make -s -j{jobs} CFLAGS_EXTRA='{cflags}'",
    artifact: 'libtinyslab.so',
    flags: {
      TS_TLS_CACHE: { ...values01, default: '1' },
      TS_POOL: { kind: 'define', values: ['0', '1', '2'], default: '1' },
      TS_SOFT_CAP: { kind: 'define', default: '32' },
      TS_INLINE: { ...values01, default: '1' },
      TS_STATS: { ...values01, default: '1' },
      // 1: ts_assert checks tinyslab.h's invariants (aborting on a broken one); 0 compiles them out.
      TS_DEBUG: { ...values01, default: '0' },
    },
  };
}

/** The artifact candidates as text, for keys and messages. */
export function artifactText(target: SourceTarget): string {
  return Array.isArray(target.artifact) ? target.artifact.join(' | ') : target.artifact;
}

/** The key a build is cached under: (commit, uncommitted changes, command, artifact, compile-time flags). */
export function buildKey(target: SourceTarget, revision: Revision, compile: Record<string, string>): string {
  const flags = Object.keys(compile)
    .sort()
    .map((k) => `${k}=${compile[k]}`)
    .join('\n');
  return createHash('sha256').update(`${revision.commit}\n${revision.dirty ?? ''}\n${target.build}\n${artifactText(target)}\n${flags}`).digest('hex').slice(0, 32);
}

/** Reads a cached build result; a damaged or stale entry counts as missing. */
function cachedResult(path: string): BuildResult | undefined {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<BuildResult>;
    if (r.status === 'failed' && typeof r.key === 'string' && Array.isArray(r.logTail)) return r as BuildResult;
    if (r.status === 'ok' && typeof r.artifactPath === 'string' && existsSync(r.artifactPath) && Array.isArray(r.logTail)) return r as BuildResult;
  } catch {
    // missing or truncated: build again
  }
  return undefined;
}

/** Removes build copies left by processes that no longer exist (a killed build). */
function sweepWorktrees(root: string): void {
  for (const name of readdirSync(root)) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(join(root, name), { recursive: true, force: true });
    }
  }
}

/** Copies the source at a revision into `work`: `git archive` of the commit, or the files as they are (folders, --dirty). */
function exportSource(target: SourceTarget, revision: Revision, work: string): void {
  if (revision.commit.startsWith('dir-') || revision.dirty) {
    const files = revision.dirty
      ? spawnSync('git', ['-C', target.repo, 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '.'], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout.split('\0').filter(Boolean).map((f) => join(target.repo, f))
      : folderFiles(target.repo);
    for (const f of files) {
      if (!existsSync(f) || !lstatSync(f).isFile()) continue; // deleted in the work tree
      const dest = join(work, f.slice(target.repo.length + 1));
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(f, dest);
    }
    return;
  }
  // `git archive` exports the commit's tree: the user's index, HEAD and work tree are never touched.
  const tar = execFileSync('git', ['-C', target.repo, 'archive', '--format=tar', revision.commit], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', work], { input: tar });
}

export interface BuildOptions {
  rev?: string;
  /** Flag values given (declared defaults fill in the rest). */
  flags?: Record<string, string>;
  /** Build uncommitted changes of a git work tree (else a dirty tree at HEAD is refused). */
  dirty?: boolean;
  /** Build again even when a result (ok or failed) is cached. */
  force?: boolean;
  /** Build again when the cached result is a failure. */
  retryFailed?: boolean;
  store?: BuildStore;
  timeoutMs?: number;
  /** A build variant (engine/build/pgo.ts): more {cflags}, files copied into the source copy first; its key is part of the build key. */
  variant?: BuildVariant;
  /** The `{jobs}` placeholder (default: ALLOCREPLAY_JOBS, else the number of cores). */
  jobs?: number;
}

/** Extra compiler flags and files for one build (a profile-guided build's two stages). */
export interface BuildVariant {
  /** Tells this variant's builds apart from the plain ones (same key: same build). */
  key: string;
  cflags: string;
  /** Files copied into the source copy before the build: [absolute source, path relative to the source root]. */
  files?: [string, string][];
}

/** The build watcher, compiled: beside this module in dist/, else (tests run sources) the built copy. */
function phasesScript(): string {
  const here = fileURLToPath(new URL('./phases.js', import.meta.url));
  return existsSync(here) ? here : packagePath('dist', 'engine', 'build', 'phases.js');
}

/** `{jobs}` when no --jobs is given: ALLOCREPLAY_JOBS, else the number of cores. */
export function buildJobs(): number {
  const n = Number(process.env.ALLOCREPLAY_JOBS);
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

/**
 * Builds a source target at a revision under compile-time flags, in a
 * private copy under the cache directory (never in the user's checkout).
 * Cached by buildKey: a hit runs nothing. A failed build is a result.
 */
export function buildSource(target: SourceTarget, opts: BuildOptions = {}): BuildResult & { buildId?: number } {
  const revision = resolveRevision(target, opts.rev, { dirty: opts.dirty ?? false });
  const assignment = fullAssignment(target.name, target.flags, opts.flags ?? {});
  const args = flagArgs(target.flags, assignment);
  const plainKey = buildKey(target, revision, args.compile);
  const key = opts.variant ? createHash('sha256').update(`${plainKey}\n${opts.variant.key}`).digest('hex').slice(0, 32) : plainKey;
  const out = cacheDir('builds', key);
  const logPath = join(out, 'build.log');
  const resultPath = join(out, 'result.json');
  const record = (r: BuildResult): BuildResult & { buildId?: number } => {
    if (!opts.store) return r;
    const buildId = opts.store.recordBuild({
      key,
      target: target.name,
      repo: target.repo,
      revision: revision.commit,
      command: target.build,
      flags: args.compile,
      status: r.status,
      ...(r.artifactPath ? { artifact: r.artifactPath } : {}),
      log: existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-65536) : '',
      durationMs: r.durationMs,
    });
    return { ...r, buildId };
  };
  // Held to the end: another process building this entry finishes first, and its result is then found cached.
  using _lock = lockBuild(out);
  const cached = opts.force ? undefined : cachedResult(resultPath);
  if (cached && !(cached.status === 'failed' && opts.retryFailed)) return record({ ...cached, cached: true });
  const started = Date.now();
  const worktrees = cacheDir('worktrees');
  sweepWorktrees(worktrees);
  // A variant (profile-guided stage) never shares the kept directory: make would not see its other cflags.
  const kept = opts.force || opts.variant ? undefined : claimBuildDir(worktrees, target, args.compile);
  const work = kept?.dir ?? join(worktrees, `${key}-${process.pid}`);
  if (!kept?.reused) rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  let log = kept?.reused ? `(incremental: reusing ${work})\n` : '';
  let artifactPath: string | undefined;
  let ok = false;
  try {
    const staging = kept ? join(worktrees, `${key}-${process.pid}`) : work;
    if (kept) {
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
    }
    exportSource(target, revision, staging);
    if (kept) {
      syncSources(staging, work);
      rmSync(staging, { recursive: true, force: true });
    }
    for (const [from, to] of opts.variant?.files ?? []) {
      mkdirSync(dirname(join(work, to)), { recursive: true });
      copyFileSync(from, join(work, to));
    }
    const cflags = opts.variant ? `${args.placeholders.cflags ?? ''} ${opts.variant.cflags}`.trim() : args.placeholders.cflags;
    const cmd = expand(target.build, { ...args.placeholders, ...(cflags !== undefined ? { cflags } : {}), jobs: String(opts.jobs ?? buildJobs()) });
    log += `$ ${cmd}\n`;
    const outputPath = join(out, 'build.output');
    mkdirSync(out, { recursive: true });
    const phases = phasesScript();
    const r = spawnSync(process.execPath, [phases, outputPath, String(opts.timeoutMs ?? 600_000), `build ${target.name}`, cmd], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    log += existsSync(outputPath) ? readFileSync(outputPath, 'utf8') : '';
    rmSync(outputPath, { force: true });
    if (r.error) log += `\n${r.error.message}\n`;
    const candidates = (Array.isArray(target.artifact) ? target.artifact : [target.artifact]).map((a) => expand(a, args.placeholders));
    const built = candidates.map((a) => join(work, a)).find((p) => existsSync(p) && statSync(p).isFile());
    if (r.status === 0 && built) {
      artifactPath = join(out, basename(built));
      // Renamed into place: a process still replaying through the old artifact keeps its (unchanged) file.
      copyFileSync(built, `${artifactPath}.${process.pid}`);
      renameSync(`${artifactPath}.${process.pid}`, artifactPath);
      ok = true;
    } else if (r.status === 0) {
      log += `\nbuild succeeded but made no ${candidates.join(' or ')}\n`;
    } else {
      log += `\nbuild exited with status ${r.status ?? r.signal}\n`;
    }
  } catch (e) {
    log += `\n${(e as Error).message}\n`;
  } finally {
    // A kept directory survives only a good build: after a failure the next build starts clean.
    if (!kept || !ok) rmSync(work, { recursive: true, force: true });
    kept?.release();
  }
  writeFileSync(logPath, log);
  const result: BuildResult = {
    status: artifactPath ? 'ok' : 'failed',
    key,
    commit: revision.commit,
    dirty: revision.dirty,
    compile: args.compile,
    ...(artifactPath ? { artifactPath } : {}),
    logTail: log.trimEnd().split('\n').slice(-20),
    logPath,
    cached: false,
    durationMs: Date.now() - started,
  };
  // Written whole then renamed, so a kill never leaves a truncated result behind.
  writeFileSync(`${resultPath}.${process.pid}`, JSON.stringify(result));
  renameSync(`${resultPath}.${process.pid}`, resultPath);
  return record(result);
}

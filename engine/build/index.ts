import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { cacheDir, packagePath, usageError } from '../../traces/index.js';

/** How a flag reaches the allocator. */
export type FlagKind = 'define' | 'make' | 'cmake' | 'env';

export interface FlagDef {
  kind: FlagKind;
  values?: string[];
  default?: string;
}

/** An allocator built from source: a repository (or plain folder), a build command template and the artifact it makes. */
export interface SourceTarget {
  name: string;
  /** A git repository, or a plain folder (its revision is then a hash of its files). */
  repo: string;
  /** Template: {cflags} → -DNAME=VALUE…, {make} → NAME=VALUE…, {cmake} → -DNAME=VALUE…, {jobs} → job count. */
  build: string;
  /** The shared library the build makes, relative to the source root. */
  artifact: string;
  flags: Record<string, FlagDef>;
  /** Runtime environment always set for this target. */
  env?: Record<string, string>;
}

export interface BuildResult {
  status: 'ok' | 'failed';
  key: string;
  /** The commit (git) or content hash (plain folder) that was built. */
  commit: string;
  artifactPath?: string;
  logTail: string[];
  logPath: string;
  cached: boolean;
  durationMs: number;
}

/** The store's side of builds, typed structurally (reports/store implements it). */
export interface BuildStore {
  recordBuild(b: { key: string; target: string; repo?: string; revision?: string; command: string; flags: Record<string, string>; status: 'ok' | 'failed'; artifact?: string; log: string; durationMs: number }): number;
}

/** The bundled reference allocator, engine/allocators/tinyslab. */
export function tinyslabTarget(): SourceTarget {
  const values01 = { kind: 'define' as const, values: ['0', '1'] };
  return {
    name: 'tinyslab',
    repo: packagePath('engine', 'allocators', 'tinyslab'),
    build: "make -s -j{jobs} CFLAGS_EXTRA='{cflags}'",
    artifact: 'libtinyslab.so',
    flags: {
      TS_TLS_CACHE: { ...values01, default: '1' },
      TS_POOL: { kind: 'define', values: ['0', '1', '2'], default: '1' },
      TS_SOFT_CAP: { kind: 'define', default: '32' },
      TS_INLINE: { ...values01, default: '1' },
      TS_STATS: { ...values01, default: '1' },
    },
  };
}

/** Splits an assignment into what goes to the compiler, make, cmake and the environment. */
export function compileFlagArgs(defs: Record<string, FlagDef>, assignment: Record<string, string>): { cflags: string; make: string; cmake: string; compile: Record<string, string>; env: Record<string, string> } {
  const compile: Record<string, string> = {};
  const env: Record<string, string> = {};
  const cflags: string[] = [];
  const make: string[] = [];
  const cmake: string[] = [];
  for (const name of Object.keys(assignment).sort()) {
    const value = assignment[name]!;
    const def = defs[name] ?? { kind: 'define' as const };
    if (def.values && !def.values.includes(value)) throw usageError(`flag ${name}=${value} is not one of its values (${def.values.join(', ')})`, `use ${name}=${def.values[0]}`);
    if (!/^[\w.+\-/:]*$/.test(value)) throw usageError(`flag ${name}=${value}: value has characters a build command cannot take safely`, 'use letters, digits and . + - / :');
    if (def.kind === 'env') {
      env[name] = value;
      continue;
    }
    compile[name] = value;
    if (def.kind === 'define') cflags.push(`-D${name}=${value}`);
    else if (def.kind === 'make') make.push(`${name}=${value}`);
    else cmake.push(`-D${name}=${value}`);
  }
  return { cflags: cflags.join(' '), make: make.join(' '), cmake: cmake.join(' '), compile, env };
}

function isGitRepo(dir: string): boolean {
  return spawnSync('git', ['-C', dir, 'rev-parse', '--git-dir'], { stdio: 'ignore' }).status === 0;
}

/** Files of a plain folder, minus build outputs. */
function folderFiles(dir: string, artifact: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git' && e.name !== 'node_modules') walk(p);
      } else if (e.isFile() && !/\.(o|so|a)$/.test(e.name) && relative(dir, p) !== artifact) {
        out.push(p);
      }
    }
  };
  walk(dir);
  return out;
}

/** Resolves a revision to a full commit (git) or the folder's content hash. */
export function resolveRevision(target: SourceTarget, rev?: string): string {
  if (!existsSync(target.repo)) throw usageError(`target ${target.name}: no such directory ${target.repo}`, 'fix the repo path');
  if (isGitRepo(target.repo)) {
    const r = spawnSync('git', ['-C', target.repo, 'rev-parse', '--verify', '--quiet', `${rev ?? 'HEAD'}^{commit}`], { encoding: 'utf8' });
    if (r.status !== 0) throw usageError(`target ${target.name}: unknown revision '${rev ?? 'HEAD'}' in ${target.repo}`, 'give a commit, branch or tag of that repository');
    return r.stdout.trim();
  }
  if (rev) throw usageError(`target ${target.name}: ${target.repo} is not a git repository, so --rev ${rev} cannot be built`, 'drop --rev, or point the target at a git repository');
  const h = createHash('sha256');
  for (const f of folderFiles(target.repo, target.artifact)) h.update(relative(target.repo, f)).update('\0').update(readFileSync(f));
  return `dir-${h.digest('hex').slice(0, 32)}`;
}

/** The key a build is cached under: (commit, command, compile-time flags). */
export function buildKey(target: SourceTarget, commit: string, compile: Record<string, string>): string {
  const flags = Object.keys(compile)
    .sort()
    .map((k) => `${k}=${compile[k]}`)
    .join('\n');
  return createHash('sha256').update(`${commit}\n${target.build}\n${target.artifact}\n${flags}`).digest('hex').slice(0, 32);
}

/**
 * Builds a source target at a revision under compile-time flags, in a
 * private copy under the cache directory (never in the user's checkout).
 * Cached by buildKey: a hit runs nothing. A failed build is a result.
 */
export function buildSource(target: SourceTarget, opts: { rev?: string; flags?: Record<string, string>; store?: BuildStore; timeoutMs?: number } = {}): BuildResult & { buildId?: number } {
  const commit = resolveRevision(target, opts.rev);
  const args = compileFlagArgs(target.flags, opts.flags ?? {});
  const key = buildKey(target, commit, args.compile);
  const out = cacheDir('builds', key);
  const logPath = join(out, 'build.log');
  const resultPath = join(out, 'result.json');
  const record = (r: BuildResult): BuildResult & { buildId?: number } => {
    if (!opts.store) return r;
    const buildId = opts.store.recordBuild({
      key,
      target: target.name,
      repo: target.repo,
      revision: commit,
      command: target.build,
      flags: args.compile,
      status: r.status,
      ...(r.artifactPath ? { artifact: r.artifactPath } : {}),
      log: existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-65536) : '',
      durationMs: r.durationMs,
    });
    return { ...r, buildId };
  };
  if (existsSync(resultPath)) {
    const cached = JSON.parse(readFileSync(resultPath, 'utf8')) as BuildResult;
    if (cached.status === 'failed' || (cached.artifactPath && existsSync(cached.artifactPath))) return record({ ...cached, cached: true });
  }
  const started = Date.now();
  const work = join(cacheDir('worktrees'), `${key}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  let log = '';
  let ok = false;
  try {
    if (commit.startsWith('dir-')) {
      for (const f of folderFiles(target.repo, target.artifact)) {
        const dest = join(work, relative(target.repo, f));
        mkdirSync(resolve(dest, '..'), { recursive: true });
        copyFileSync(f, dest);
      }
    } else {
      // `git archive` exports the commit's tree: the user's index, HEAD and work tree are never touched.
      const tar = execFileSync('git', ['-C', target.repo, 'archive', '--format=tar', commit], { maxBuffer: 1 << 30 });
      execFileSync('tar', ['-x', '-C', work], { input: tar });
    }
    const cmd = target.build
      .replaceAll('{cflags}', args.cflags)
      .replaceAll('{make}', args.make)
      .replaceAll('{cmake}', args.cmake)
      .replaceAll('{jobs}', String(availableParallelism()));
    log += `$ ${cmd}\n`;
    const r = spawnSync('sh', ['-c', cmd], { cwd: work, encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 << 20, env: { ...process.env, ...(target.env ?? {}) } });
    log += (r.stdout ?? '') + (r.stderr ?? '');
    if (r.error) log += `\n${r.error.message}\n`;
    const built = join(work, target.artifact);
    if (r.status === 0 && existsSync(built) && statSync(built).isFile()) {
      copyFileSync(built, join(out, basename(target.artifact)));
      ok = true;
    } else if (r.status === 0) {
      log += `\nbuild succeeded but made no ${target.artifact}\n`;
    } else {
      log += `\nbuild exited with status ${r.status ?? r.signal}\n`;
    }
  } catch (e) {
    log += `\n${(e as Error).message}\n`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(logPath, log);
  const result: BuildResult = {
    status: ok ? 'ok' : 'failed',
    key,
    commit,
    ...(ok ? { artifactPath: join(out, basename(target.artifact)) } : {}),
    logTail: log.trimEnd().split('\n').slice(-20),
    logPath,
    cached: false,
    durationMs: Date.now() - started,
  };
  writeFileSync(resultPath, JSON.stringify(result));
  return record(result);
}

/** Commits after `good` up to and including `bad`, oldest first, with subjects. */
export function listRevisions(repo: string, good: string, bad: string, firstParent = false): { commit: string; subject: string }[] {
  const args = ['-C', repo, 'log', '--reverse', '--topo-order', '--format=%H %s', ...(firstParent ? ['--first-parent'] : []), `${good}..${bad}`];
  const r = spawnSync('git', args, { encoding: 'utf8' });
  if (r.status !== 0) throw usageError(`cannot list commits ${good}..${bad} in ${repo}: ${r.stderr.trim().split('\n')[0]}`, 'check both revisions exist');
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ commit: l.slice(0, 40), subject: l.slice(41) }));
}


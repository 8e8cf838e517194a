/**
 * Revisions of a source target: a git commit (plus, only when the user asks
 * with --dirty, a hash of the uncommitted changes that are built with it), or
 * the content hash of a plain folder. Ranges and lists expand through git.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { usageError } from '../../traces/index.js';

/** What a build is made from. */
export interface Revision {
  /** Full commit, or `dir-…` for a plain folder. */
  commit: string;
  /** Hash of uncommitted changes built on top of `commit` (--dirty), else null. */
  dirty: string | null;
}

/** Where a source target's code lives. */
export interface RevisionSource {
  name: string;
  repo: string;
  /** Treat `repo` as a plain folder even inside a git checkout (the bundled allocator). */
  folder?: boolean;
}

function git(repo: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '').trim().split('\n')[0] ?? '' };
}

export function isGitRepo(dir: string): boolean {
  return git(dir, ['rev-parse', '--git-dir']).ok;
}

/** Files of a plain folder, minus build outputs and VCS metadata. */
export function folderFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git' && e.name !== 'node_modules') walk(p);
      } else if (e.isFile() && !/\.(o|so|a|gcda|gcno|profraw|profdata)$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function hashFiles(root: string, files: string[], seed = ''): string {
  const h = createHash('sha256').update(seed);
  for (const f of files) {
    const p = join(root, f);
    h.update(f).update('\0');
    if (existsSync(p) && lstatSync(p).isFile()) h.update(readFileSync(p));
    else h.update('(deleted)');
    h.update('\0');
  }
  return h.digest('hex');
}

/** Paths (relative to `repo`) that differ from HEAD, untracked ones included, ignored ones not. */
export function uncommitted(repo: string): string[] {
  const r = git(repo, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.']);
  if (!r.ok) return [];
  const prefix = git(repo, ['rev-parse', '--show-prefix']).out.trim();
  const out: string[] = [];
  const items = r.out.split('\0');
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (it.length < 4) continue;
    if (it[0] === 'R' || it[0] === 'C') i++; // the rename's source follows
    const path = it.slice(3);
    out.push(prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path);
  }
  return out.sort();
}

/**
 * Resolves a revision. A git repository at its HEAD with uncommitted
 * changes is refused unless `dirty` (then they are hashed and built).
 */
export function resolveRevision(target: RevisionSource, rev?: string, opts: { dirty?: boolean } = {}): Revision {
  if (!existsSync(target.repo)) throw usageError(`target ${target.name}: no such directory ${target.repo}`, 'fix the repo path');
  if (!target.folder && isGitRepo(target.repo)) {
    const r = git(target.repo, ['rev-parse', '--verify', '--quiet', `${rev ?? 'HEAD'}^{commit}`]);
    if (!r.ok) throw usageError(`target ${target.name}: unknown revision '${rev ?? 'HEAD'}' in ${target.repo}`, 'give a commit, branch or tag of that repository');
    const commit = r.out.trim();
    if (rev !== undefined) return { commit, dirty: null };
    const changed = uncommitted(target.repo);
    if (changed.length === 0) return { commit, dirty: null };
    if (!opts.dirty) {
      const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ` and ${changed.length - 5} more` : '');
      throw usageError(`target ${target.name}: ${target.repo} has uncommitted changes (${shown}); HEAD would be built without them`, 'commit them, pass --rev to build a commit, or pass --dirty to build the work tree as it is');
    }
    return { commit, dirty: hashFiles(target.repo, changed, commit) };
  }
  if (rev) throw usageError(`target ${target.name}: ${target.repo} is not a git repository, so --rev ${rev} cannot be built`, 'drop --rev, or point the target at a git repository');
  const files = folderFiles(target.repo).map((f) => relative(target.repo, f));
  return { commit: `dir-${hashFiles(target.repo, files).slice(0, 32)}`, dirty: null };
}

/** Commits after `good` up to and including `bad`, oldest first, with subjects. */
export function listRevisions(repo: string, good: string, bad: string, firstParent = false): { commit: string; subject: string }[] {
  const r = git(repo, ['log', '--reverse', '--topo-order', '--format=%H %s', ...(firstParent ? ['--first-parent'] : []), `${good}..${bad}`]);
  if (!r.ok) throw usageError(`cannot list commits ${good}..${bad} in ${repo}: ${r.err}`, 'check both revisions exist');
  return r.out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ commit: l.slice(0, 40), subject: l.slice(41) }));
}

/**
 * `--rev` values: `A,B` lists, `A..B` git ranges (the commits after A up to
 * and including B, oldest first, as git means it), or single revisions.
 */
export function expandRevs(repo: string, specs: string[]): string[] {
  const out: string[] = [];
  for (const spec of specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const range = /^(.+?)\.\.(.+)$/.exec(spec);
    if (range) {
      const list = listRevisions(repo, range[1]!, range[2]!).map((c) => c.commit);
      if (list.length === 0) throw usageError(`--rev ${spec}: no commits in that range`, `git ranges exclude their start: use ${range[1]}^..${range[2]} to include ${range[1]}`);
      out.push(...list);
    } else out.push(spec);
  }
  return [...new Set(out)];
}

/** Resolves `ref` to a full commit in `repo`, or undefined. */
export function commitOf(repo: string, ref: string): string | undefined {
  if (!existsSync(repo)) return undefined;
  const r = git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return r.ok ? r.out.trim() : undefined;
}

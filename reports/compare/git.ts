/**
 * The one question reports ask git: in what order were these commits made,
 * and what were they called. Read-only (`git log`); a directory that is not
 * a git repository answers "unknown" and the caller falls back to run order.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Commits of a repository oldest first (topological), with subjects. */
export interface CommitOrder {
  repo: string;
  /** Full hashes, oldest first: the position of a commit is its index. */
  commits: string[];
  subjects: Map<string, string>;
}

const cache = new Map<string, CommitOrder | undefined>();

/**
 * `git log --topo-order --reverse --all` of `repo`: every commit reachable
 * from a ref, parents before children. Undefined when `repo` does not exist
 * or is not a git repository.
 */
export function commitOrder(repo: string): CommitOrder | undefined {
  if (cache.has(repo)) return cache.get(repo);
  let out: CommitOrder | undefined;
  if (existsSync(repo)) {
    const r = spawnSync('git', ['-C', repo, 'log', '--topo-order', '--reverse', '--all', '--format=%H%x09%s'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (r.status === 0) {
      const commits: string[] = [];
      const subjects = new Map<string, string>();
      for (const line of r.stdout.split('\n')) {
        const tab = line.indexOf('\t');
        if (tab !== 40) continue;
        const sha = line.slice(0, 40);
        commits.push(sha);
        subjects.set(sha, line.slice(41));
      }
      out = { repo, commits, subjects };
    }
  }
  cache.set(repo, out);
  return out;
}

/** Whether `repo` is a git repository git can read. */
export function isGitRepo(repo: string): boolean {
  return commitOrder(repo) !== undefined;
}

/**
 * The demo's allocator history: a small git repository made from the
 * bundled tinyslab's current sources plus a fixed series of ordinary
 * commits, one of which splits the allocation core's single translation
 * unit (`shared_pool.c`: the malloc family, the thread heaps and the slab
 * pool) into `alloc.c`, `heap.c` and `pool.c`. Before the split the
 * compiler inlines heap.c's functions into malloc and free (taking a
 * block from its current slab, a local free); after it they are calls
 * across translation units, on the path every small request takes (the
 * thread's heap is an inline load from tinyslab.h either way). Nothing is
 * faked: whatever slowdown the demo shows is what the compiler makes of the
 * two layouts. It shows on a small working set, where that path is all the
 * time there is; past the soft cap (8192 slots) the time goes to the
 * fallback's system calls and the same calls are lost in it.
 *
 * Every step rewrites whole files (or appends to them) and never patches
 * tinyslab's own code, so small edits to tinyslab do not break the history.
 * Commit dates are fixed, so the same sources give the same commits and a
 * second demo run reuses every build and run.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failure, packagePath } from '../../traces/index.js';
import { type SourceTarget, tinyslabTarget } from '../build/index.js';

/** The files merged into one translation unit before the split, in this order. */
const CORE = ['alloc.c', 'heap.c', 'pool.c'];
const MERGED = 'shared_pool.c';

/** One commit of the history: its subject, and the change it makes to the work tree. */
interface HistoryStep {
  subject: string;
  apply: (repo: string, sources: string) => void;
}

const read = (repo: string, f: string): string => readFileSync(join(repo, f), 'utf8');
const write = (repo: string, f: string, text: string): void => writeFileSync(join(repo, f), text);
const append = (repo: string, f: string, text: string): void => write(repo, f, `${existsSync(join(repo, f)) ? read(repo, f) : ''}${text}`);

/** Rewrites the Makefile line `NAME = …` (or `NAME ?= …`); a Makefile without it is a clear failure, not a silent no-op. */
function makeVar(repo: string, name: string, f: (value: string) => string): void {
  const text = read(repo, 'Makefile');
  const re = new RegExp(`^(${name}\\s*\\??=)(.*)$`, 'm');
  if (!re.test(text)) throw failure(`demo history: tinyslab's Makefile has no ${name} line`, 'engine/demo/history.ts rewrites it; update the step to the new Makefile');
  write(repo, 'Makefile', text.replace(re, (_all, head: string, value: string) => `${head}${f(value)}`));
}

/** The Makefile's SRC with the core files replaced by `by` (at the place of the first of them). */
function replaceSources(value: string, by: string[]): string {
  const words = value.trim().split(/\s+/);
  const at = words.findIndex((w) => CORE.includes(w) || w === MERGED);
  const rest = words.filter((w) => !CORE.includes(w) && w !== MERGED);
  rest.splice(at < 0 ? 0 : at, 0, ...by);
  return ` ${rest.join(' ')}`;
}

const README = `# tinyslab

A small slab allocator: 64 KiB slabs carved from 2 MiB superslabs through a
shared pool with a soft cap, one heap per thread, large blocks mapped alone.
Build with \`make CFLAGS_EXTRA='-DTS_POOL=2'\`; every flag is in ts_config.h.
`;

/** The history, oldest first. The first step starts from tinyslab's sources as bundled. */
const STEPS: HistoryStep[] = [
  {
    subject: 'Import tinyslab: the allocation core in one file, shared_pool.c',
    apply: (repo, sources) => {
      for (const f of readdirSync(sources)) if (statSync(join(sources, f)).isFile() && f !== 'libtinyslab.so' && !f.endsWith('.o')) copyFileSync(join(sources, f), join(repo, f));
      const parts = CORE.map((f) => `/* ==== ${f.replace(/\.c$/, '')} ==== */\n${read(repo, f)}`);
      write(repo, MERGED, `/* The allocation core: the malloc family, the thread heaps and the shared slab pool, one translation unit. */\n${parts.join('\n')}`);
      for (const f of CORE) rmSync(join(repo, f));
      makeVar(repo, 'SRC', (v) => replaceSources(v, [MERGED]));
      // The library's own calls are never interposed, so the compiler may inline them.
      makeVar(repo, 'ALL_CFLAGS', (v) => `${v} -fno-semantic-interposition`);
    },
  },
  { subject: 'Ignore the built library', apply: (repo) => write(repo, '.gitignore', 'libtinyslab.so\n*.o\n') },
  { subject: 'Add a README', apply: (repo) => write(repo, 'README.md', README) },
  { subject: 'README: how to run it under a program', apply: (repo) => append(repo, 'README.md', '\nRun a program on it with `LD_PRELOAD=./libtinyslab.so program`.\n') },
  { subject: 'Makefile: a `print-src` target listing the sources', apply: (repo) => append(repo, 'Makefile', '\nprint-src:\n\t@echo $(SRC)\n\n.PHONY: print-src\n') },
  { subject: 'README: where the counters go', apply: (repo) => append(repo, 'README.md', '\nWith TS_STATS=1 the counters are written at exit to $ALLOCREPLAY_STATS_FILE.\n') },
  {
    subject: 'Split shared_pool.c into alloc.c, heap.c and pool.c (one concept per file)',
    apply: (repo, sources) => {
      for (const f of CORE) copyFileSync(join(sources, f), join(repo, f));
      rmSync(join(repo, MERGED));
      makeVar(repo, 'SRC', (v) => replaceSources(v, CORE));
    },
  },
  { subject: 'README: the source files', apply: (repo) => append(repo, 'README.md', '\nalloc.c: the malloc family. heap.c: thread heaps. pool.c: the shared slab pool. slab.c: mmap.\n') },
  { subject: 'Ignore editor backups', apply: (repo) => append(repo, '.gitignore', '*~\n') },
  { subject: 'README: the soft cap', apply: (repo) => append(repo, 'README.md', '\nPast TS_SOFT_CAP slabs the pool falls back to slabs mapped alone (counted as cap_fallbacks).\n') },
  { subject: 'Makefile: a clean-profiles target for gcc profile data', apply: (repo) => append(repo, 'Makefile', '\nclean-profiles:\n\trm -f *.gcda\n\n.PHONY: clean-profiles\n') },
];

/** The subject of the commit that splits the core: what a bisection of the history should name. */
export const SPLIT_SUBJECT = STEPS.find((s) => s.subject.startsWith('Split '))!.subject;

export interface DemoHistory {
  repo: string;
  /** Commits, oldest first. */
  commits: { commit: string; subject: string }[];
  /** The history as a source target with tinyslab's flags. */
  target: SourceTarget;
}

/**
 * Makes (or remakes) the history repository at `repo` from the bundled
 * tinyslab. The same sources always give the same commits, so the builds
 * and runs of an earlier demo are found again.
 */
export function makeDemoHistory(repo: string, sources = packagePath('engine', 'allocators', 'tinyslab')): DemoHistory {
  const tmp = `${repo}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let clock = 1_700_000_000;
  const git = (...args: string[]): string => {
    const date = `${clock} +0000`;
    const env = { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
    return execFileSync('git', ['-C', tmp, '-c', 'user.name=tinyslab demo', '-c', 'user.email=demo@allocreplay.invalid', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8', env }).trim();
  };
  git('init', '-q', '-b', 'main');
  const commits: { commit: string; subject: string }[] = [];
  for (const step of STEPS) {
    step.apply(tmp, sources);
    git('add', '-A');
    git('commit', '-q', '-m', step.subject);
    commits.push({ commit: git('rev-parse', 'HEAD'), subject: step.subject });
    clock += 3600;
  }
  // Keep an existing repository with the same head (its path is part of every configuration); replace it otherwise.
  let head: string | undefined;
  try {
    head = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    head = undefined; // missing or damaged: made again
  }
  if (head === commits.at(-1)!.commit) rmSync(tmp, { recursive: true, force: true });
  else {
    rmSync(repo, { recursive: true, force: true });
    renameSync(tmp, repo);
  }
  const t = tinyslabTarget();
  return { repo, commits, target: { ...t, name: 'tinyslab-history', repo, folder: false } };
}

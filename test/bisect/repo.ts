import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliResult, ROOT } from '../helpers.js';

/** One commit of a made-up history: its subject and what it changes (every commit also adds a line to NOTES). */
export interface Change {
  subject: string;
  edit?: (repo: string) => void;
}

/** A git runner for `repo` whose commits get one second each, so `git log` order never depends on timing. */
export function gitIn(repo: string): (...args: string[]) => string {
  let clock = 1_700_000_000;
  return (...args: string[]): string => {
    const date = `${clock++} +0000`;
    return execFileSync('git', ['-C', repo, '-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } }).trim();
  };
}

/** Rewrites a file of the repository. */
export function rewrite(repo: string, file: string, f: (text: string) => string): void {
  const p = join(repo, file);
  writeFileSync(p, f(readFileSync(p, 'utf8')));
}

/** Sets one of tinyslab's defaults in ts_config.h. */
export const setDefault =
  (name: string, value: string) =>
  (repo: string): void =>
    rewrite(repo, 'ts_config.h', (t) => t.replace(new RegExp(`#define ${name} \\S+`), `#define ${name} ${value}`));

const BREAK = '\n#error half-finished refactor\n';
export const breakBuild = (repo: string): void => rewrite(repo, 'stats.c', (t) => `${t}${BREAK}`);
export const fixBuild = (repo: string): void => rewrite(repo, 'stats.c', (t) => t.replace(BREAK, ''));

/**
 * A git repository made from the bundled tinyslab: the first commit is
 * tinyslab as bundled (after `start`), then one commit per change.
 * Returns the commits, oldest first (shas[0] is the first).
 */
export function makeHistory(dir: string, name: string, changes: Change[], start?: (repo: string) => void): { repo: string; shas: string[]; git: (...a: string[]) => string } {
  const repo = join(dir, name);
  cpSync(join(ROOT, 'engine/allocators/tinyslab'), repo, { recursive: true });
  const git = gitIn(repo);
  git('init', '-q');
  start?.(repo);
  writeFileSync(join(repo, 'NOTES'), 'start\n');
  git('add', '.');
  git('commit', '-qm', 'tinyslab as bundled');
  const shas = [git('rev-parse', 'HEAD')];
  changes.forEach((ch, i) => {
    rewrite(repo, 'NOTES', (t) => `${t}change ${i + 1}\n`);
    ch.edit?.(repo);
    git('commit', '-qam', ch.subject);
    shas.push(git('rev-parse', 'HEAD'));
  });
  return { repo, shas, git };
}

/**
 * `commits` commits after the first; commit `culprit` flips TS_INLINE's
 * default to 0 (helpers out of line); commit `broken` (if any) does not
 * build, and `fixed` (default broken + 1) repairs it.
 */
export function makeRepo(dir: string, name: string, commits: number, culprit: number, broken?: number, fixed = broken === undefined ? undefined : broken + 1): { repo: string; shas: string[] } {
  const changes: Change[] = [];
  for (let i = 1; i <= commits; i++) {
    const edits: ((repo: string) => void)[] = [];
    let subject = `note ${i}`;
    if (i === culprit) {
      edits.push(setDefault('TS_INLINE', '0'));
      subject = 'Split the hot helpers out of line';
    }
    if (i === broken) {
      edits.push(breakBuild);
      subject = i === culprit ? `${subject} (WIP: does not build)` : 'WIP: does not build';
    }
    if (i === fixed) {
      edits.push(fixBuild);
      subject = 'Fix the build';
    }
    changes.push({ subject, edit: (repo) => edits.forEach((e) => e(repo)) });
  }
  return makeHistory(dir, name, changes);
}

/** A tiny allocator (one C file wrapping glibc's malloc) whose cost the build flags or the commits change. */
export function makeWrapperRepo(dir: string, name: string, body: string): { repo: string; git: (...a: string[]) => string; write: (body: string) => void } {
  const repo = join(dir, name);
  mkdirSync(repo, { recursive: true });
  const write = (b: string): void =>
    writeFileSync(
      join(repo, 'a.c'),
      `#define _GNU_SOURCE
#include <stddef.h>
extern void *__libc_malloc(size_t);
static volatile unsigned long sink;
void *malloc(size_t n) {
${b}
  return __libc_malloc(n);
}
`,
    );
  write(body);
  return { repo, git: gitIn(repo), write };
}

/** The tinyslab-style inline target of these tests. */
export const TINYSLAB = ['--build', "make -s CFLAGS_EXTRA='{cflags}'", '--artifact', 'libtinyslab.so'];
/** The wrapper's inline target. */
export const WRAPPER = ['--build', 'cc -O2 -shared -fPIC {cflags} -o liba.so a.c', '--artifact', 'liba.so'];

/**
 * Runs the built CLI; the JSON on stdout is parsed when there is some.
 * Asynchronous, so the test worker stays responsive during long bisections.
 */
export function run(args: string[], env: Record<string, string>): Promise<CliResult & { out: Record<string, unknown> }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let out: Record<string, unknown> = {};
      try {
        out = stdout.trim().startsWith('{') ? JSON.parse(stdout) : {};
      } catch {
        out = {};
      }
      resolveRun({ status: code ?? -1, stdout, stderr, out });
    });
  });
}

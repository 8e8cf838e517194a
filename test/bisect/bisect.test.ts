import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../traces/index.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const trace = join(dir, 'rm.trace.msgpack');

/**
 * A git repository made from tinyslab: `commits` commits after the first;
 * commit `culprit` flips TS_INLINE's default to 0 (helpers out of line);
 * commit `broken` (if any) does not build, the next one repairs it.
 */
function makeRepo(name: string, commits: number, culprit: number, broken?: number): { repo: string; shas: string[] } {
  const repo = join(dir, name);
  cpSync(join(ROOT, 'engine/allocators/tinyslab'), repo, { recursive: true });
  const git = (...a: string[]): string => execFileSync('git', ['-C', repo, '-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { encoding: 'utf8' }).trim();
  git('init', '-q');
  writeFileSync(join(repo, 'NOTES'), 'start\n');
  git('add', '.');
  git('commit', '-qm', 'tinyslab as bundled');
  const shas = [git('rev-parse', 'HEAD')];
  for (let i = 1; i <= commits; i++) {
    let subject = `note ${i}`;
    writeFileSync(join(repo, 'NOTES'), `${readFileSync(join(repo, 'NOTES'), 'utf8')}change ${i}\n`);
    if (i === culprit) {
      const cfg = join(repo, 'ts_config.h');
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('#define TS_INLINE 1', '#define TS_INLINE 0'));
      subject = 'Split the hot helpers out of line';
    }
    if (broken !== undefined && (i === broken || i === broken + 1)) {
      const f = join(repo, 'stats.c');
      const text = readFileSync(f, 'utf8');
      writeFileSync(f, i === broken ? `${text}\n#error half-finished refactor\n` : text.replace('\n#error half-finished refactor\n', ''));
      subject = i === broken ? 'WIP: does not build' : 'Fix the build';
    }
    git('commit', '-qam', subject);
    shas.push(git('rev-parse', 'HEAD'));
  }
  return { repo, shas };
}

const BUILD = "(cat *.c *.h NOTES | md5sum) >> ../../../counter-{jobs}; make -s CFLAGS_EXTRA='{cflags}'";

function bisect(repo: string, good: string, bad: string, extra: string[] = []): { status: number; out: Record<string, unknown>; stderr: string } {
  const r = cli(['bisect', 'commits', '--repo', repo, '--build', "make -s CFLAGS_EXTRA='{cflags}'", '--artifact', 'libtinyslab.so', '--good', good, '--bad', bad, '--trace', trace, '--db', join(dir, `${repo.split('/').pop()}.sqlite`), '--json', ...extra], { env });
  return { status: r.status, out: r.status === 0 ? JSON.parse(r.stdout) : {}, stderr: r.stderr };
}

beforeAll(() => {
  generate('random-mixed', { slots: 256, ops: 100_000 }, trace);
});

describe('bisect commits', () => {
  it('names the commit that moved the helpers out of line, within ⌈log2 N⌉ + 2 builds, with the helpers in the attribution', () => {
    const { repo, shas } = makeRepo('clean', 17, 11);
    const r = bisect(repo, shas[0]!, shas.at(-1)!);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.firstBad).toBe(shas[11]);
    const firstBad = r.out.firstBadCommit as { commit: string; subject: string; deltaPct: number };
    expect(firstBad.commit).toBe(shas[11]);
    expect(firstBad.subject).toBe('Split the hot helpers out of line');
    expect(firstBad.deltaPct).toBeGreaterThan(2);
    expect(r.out.builds as number).toBeLessThanOrEqual(Math.ceil(Math.log2(17)) + 2);
    const top = (r.out.attribution as { function: string }[]).slice(0, 8).map((a) => a.function);
    for (const helper of ['ts_size_class', 'ts_freelist_pop', 'ts_freelist_push']) expect(top).toContain(helper);
    expect((r.out.steps as unknown[]).length).toBeGreaterThanOrEqual(4);
  });

  it('skips a commit that fails to build and still finds the right one', () => {
    const { repo, shas } = makeRepo('broken', 16, 12, 8);
    const r = bisect(repo, shas[0]!, shas.at(-1)!, ['--no-attribution']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.firstBad).toBe(shas[12]);
    const steps = r.out.steps as { probe: string; verdict: string }[];
    expect(steps.some((s) => s.verdict === 'skip' && s.probe === shas[8])).toBe(true);
  });

  it('refuses, with the figures, when good and bad do not differ', () => {
    const { repo, shas } = makeRepo('flat', 3, 99);
    const r = bisect(repo, shas[0]!, shas.at(-1)!);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no regression to bisect: .* measures \d+ against \d+ \(0\.00%, threshold 2%\)/);
  });

  it('killed and run again, it resumes without rebuilding anything already built', async () => {
    const { repo, shas } = makeRepo('resume', 16, 5);
    const counter = join(dir, 'counter-2');
    const args = ['bisect', 'commits', '--repo', repo, '--build', BUILD.replace('../../../', `${dir}/`).replace('counter-{jobs}', 'counter-2'), '--artifact', 'libtinyslab.so', '--good', shas[0]!, '--bad', shas.at(-1)!, '--trace', trace, '--db', join(dir, 'resume.sqlite'), '--no-attribution'];
    // A cache of its own, to count the builds that finished before the kill.
    const cache = join(dir, 'resume-cache');
    const renv = { ALLOCREPLAY_CACHE: cache };
    const finished = (): number => (existsSync(join(cache, 'builds')) ? readdirSync(join(cache, 'builds')).filter((k) => existsSync(join(cache, 'builds', k, 'result.json'))).length : 0);
    const child = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), ...args], { env: { ...process.env, ...renv }, stdio: 'ignore' });
    const closed = new Promise((res) => child.on('close', res));
    for (let i = 0; i < 600; i++) {
      await new Promise((res) => setTimeout(res, 100));
      if (existsSync(counter) && readFileSync(counter, 'utf8').trim().split('\n').length >= 3) break;
    }
    child.kill('SIGKILL');
    await closed;
    const before = readFileSync(counter, 'utf8').trim().split('\n');
    const done = finished();
    expect(done).toBeGreaterThanOrEqual(2);
    const again = cli([...args, '--json'], { env: renv });
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).firstBad).toBe(shas[5]);
    const after = readFileSync(counter, 'utf8').trim().split('\n');
    // Only a build cut short by the kill may run again; every finished one is reused.
    expect(after.length - new Set(after).size).toBeLessThanOrEqual(before.length - done);
    expect(after.slice(0, before.length)).toEqual(before);
    const show = cli(['bisect', 'show', '1', '--db', join(dir, 'resume.sqlite')], { env: renv });
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/is the first bad commit/);
  });
});

describe('bisect flags', () => {
  it('finds a planted two-flag interaction and reports both flags', () => {
    // An allocator whose slowdown needs SLOW_A=1 and SLOW_B=1 together; SLOW_C does nothing.
    const repo = join(dir, 'interact');
    execFileSync('mkdir', ['-p', repo]);
    writeFileSync(
      join(repo, 'a.c'),
      `#define _GNU_SOURCE
#include <stddef.h>
extern void *__libc_malloc(size_t);
static volatile unsigned long sink;
void *malloc(size_t n) {
#if SLOW_A && SLOW_B
  for (int i = 0; i < 50; i++) sink += (unsigned long)i;
#endif
  return __libc_malloc(n);
}
`,
    );
    const r = cli(['bisect', 'flags', '--repo', repo, '--build', 'cc -O2 -shared -fPIC {cflags} -o liba.so a.c', '--artifact', 'liba.so', '--flag', 'SLOW_A=define:0', '--flag', 'SLOW_B=define:0', '--flag', 'SLOW_C=define:0', '--good', 'SLOW_A=0 SLOW_B=0 SLOW_C=0', '--bad', 'SLOW_A=1 SLOW_B=1 SLOW_C=1', '--trace', trace, '--db', join(dir, 'flags.sqlite'), '--json', '--no-attribution'], { env });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.culprits).toEqual({ SLOW_A: '1', SLOW_B: '1' });
  });
});

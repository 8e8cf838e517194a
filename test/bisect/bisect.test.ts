import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../traces/index.js';
import { reached } from '../handshake.js';
import { ROOT, tempDir } from '../helpers.js';
import { makeRepo as makeRepoIn, run } from './repo.js';

const dir = tempDir();
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const trace = join(dir, 'rm.trace.msgpack');
const makeRepo = (name: string, commits: number, culprit: number, broken?: number): { repo: string; shas: string[] } => makeRepoIn(dir, name, commits, culprit, broken);

const BUILD = "(cat *.c *.h NOTES | md5sum) >> ../../../counter-{jobs}; make -s CFLAGS_EXTRA='{cflags}'";

async function bisect(repo: string, good: string, bad: string, extra: string[] = []): Promise<{ status: number; out: Record<string, unknown>; stderr: string }> {
  const r = await run(['bisect', 'commits', '--repo', repo, '--build', "make -s CFLAGS_EXTRA='{cflags}'", '--artifact', 'libtinyslab.so', '--good', good, '--bad', bad, '--trace', trace, '--db', join(dir, `${repo.split('/').pop()}.sqlite`), '--json', ...extra], env);
  return { status: r.status, out: r.status === 0 ? JSON.parse(r.stdout) : {}, stderr: r.stderr };
}

beforeAll(() => {
  generate('random-mixed', { slots: 256, ops: 100_000 }, trace);
});

describe('bisect commits', () => {
  it('names the commit that moved the helpers out of line, within ⌈log2 N⌉ + 2 builds, with the helpers in the attribution', async () => {
    const { repo, shas } = makeRepo('clean', 17, 11);
    const r = await bisect(repo, shas[0]!, shas.at(-1)!);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.firstBad).toBe(shas[11]);
    const firstBad = r.out.firstBadCommit as { commit: string; subject: string; deltaPct: number };
    expect(firstBad.commit).toBe(shas[11]);
    expect(firstBad.subject).toBe('Split the hot helpers out of line');
    expect(firstBad.deltaPct).toBeGreaterThan(2);
    expect(r.out.builds as number).toBeLessThanOrEqual(Math.ceil(Math.log2(17)) + 2);
    const top = (r.out.attribution as { function: string }[]).slice(0, 8).map((a) => a.function);
    for (const helper of ['ts_size_class', 'ts_freelist_pop', 'ts_freelist_push']) expect(top).toContain(helper);
    // Only functions whose own cost moved, each once under one name: no zero-delta callers, no `???:(below main)` beside `(below main)`.
    const rows = r.out.attribution as { function: string; selfDelta: number }[];
    for (const a of rows) expect(a.selfDelta, a.function).not.toBe(0);
    expect(new Set(rows.map((a) => a.function)).size).toBe(rows.length);
    expect(rows.filter((a) => /^\?\?\?:|@@/.test(a.function))).toEqual([]);
    expect((r.out.steps as unknown[]).length).toBeGreaterThanOrEqual(4);
  });

  it('skips a commit that fails to build and still finds the right one', async () => {
    const { repo, shas } = makeRepo('broken', 16, 12, 8);
    const r = await bisect(repo, shas[0]!, shas.at(-1)!, ['--no-attribution']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.firstBad).toBe(shas[12]);
    const steps = r.out.steps as { probe: string; verdict: string }[];
    expect(steps.some((s) => s.verdict === 'skip' && s.probe === shas[8])).toBe(true);
  });

  it('refuses, with the figures, when good and bad do not differ', async () => {
    const { repo, shas } = makeRepo('flat', 3, 99);
    const r = await bisect(repo, shas[0]!, shas.at(-1)!);
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
    // Each build appends a line to the counter as it starts: the third line means two builds are finished.
    await reached(child, 'the third build', () => existsSync(counter) && readFileSync(counter, 'utf8').trim().split('\n').length >= 3, { dirs: [dir] });
    child.kill('SIGKILL');
    await closed;
    expect(child.signalCode, 'the bisection finished before it could be killed').toBe('SIGKILL');
    const before = readFileSync(counter, 'utf8').trim().split('\n');
    const done = finished();
    expect(done).toBeGreaterThanOrEqual(2);
    const again = await run([...args, '--json'], renv);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).firstBad).toBe(shas[5]);
    const after = readFileSync(counter, 'utf8').trim().split('\n');
    // Only a build cut short by the kill may run again; every finished one is reused.
    expect(after.length - new Set(after).size).toBeLessThanOrEqual(before.length - done);
    expect(after.slice(0, before.length)).toEqual(before);
    const show = await run(['bisect', 'show', '1', '--db', join(dir, 'resume.sqlite')], renv);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/is the first bad commit/);
  });
});

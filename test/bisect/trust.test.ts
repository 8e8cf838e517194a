import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BisectResult } from '../../engine/index.js';
import { generate } from '../../traces/index.js';
import { tempDir } from '../helpers.js';
import { breakBuild, type Change, fixBuild, makeHistory, makeWrapperRepo, rewrite, run, setDefault, TINYSLAB, WRAPPER } from './repo.js';

const dir = tempDir();
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const trace = join(dir, 'rm.trace.msgpack');

beforeAll(() => {
  generate('random-mixed', { slots: 256, ops: 100_000 }, trace);
});

const notes = (n: number, from = 1): Change[] => Array.from({ length: n }, (_, i) => ({ subject: `note ${from + i}` }));

type Ran = Awaited<ReturnType<typeof run>>;

async function bisect(repo: string, good: string, bad: string, extra: string[] = [], target = TINYSLAB): Promise<Ran & { r: BisectResult }> {
  const x = await run(['bisect', 'commits', '--repo', repo, ...target, '--good', good, '--bad', bad, '--trace', trace, '--db', join(dir, `${repo.split('/').pop()}.sqlite`), '--no-attribution', ...extra], env);
  return { ...x, r: x.out as unknown as BisectResult };
}

function show(repo: string, id: string, json = true): Promise<Ran> {
  return run(['bisect', 'show', id, '--db', join(dir, `${repo.split('/').pop()}.sqlite`), ...(json ? ['--json'] : [])], env);
}

describe('a bisection is identified by all its options', () => {
  it('a --first-parent bisection and a plain one are two bisections, and show never mixes their steps', async () => {
    // main: base, note 1, note 2 ──────────── merge, note 3
    // side:            └ side 1, culprit, side 3 ┘
    const { repo, shas, git } = makeHistory(dir, 'merges', notes(1));
    const trunk = git('rev-parse', '--abbrev-ref', 'HEAD');
    git('branch', 'side');
    rewrite(repo, 'NOTES', (t) => `${t}main 2\n`);
    git('commit', '-qam', 'note 2');
    git('checkout', '-q', 'side');
    const side: string[] = [];
    for (const [i, subject] of ['side 1', 'Split the hot helpers out of line', 'side 3'].entries()) {
      writeFileSync(join(repo, 'SIDE'), `side ${i}\n`);
      if (i === 1) setDefault('TS_INLINE', '0')(repo);
      git('add', '.');
      git('commit', '-qm', subject);
      side.push(git('rev-parse', 'HEAD'));
    }
    git('checkout', '-q', trunk);
    git('merge', '-q', '--no-ff', '-m', 'Merge the side branch', 'side');
    const merge = git('rev-parse', 'HEAD');
    rewrite(repo, 'NOTES', (t) => `${t}main 3\n`);
    git('commit', '-qam', 'note 3');
    const head = git('rev-parse', 'HEAD');

    const plain = await bisect(repo, shas[0]!, head, ['--json']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.r.firstBad).toBe(side[1]);
    const fp = await bisect(repo, shas[0]!, head, ['--json', '--first-parent']);
    expect(fp.status, fp.stderr).toBe(0);
    expect(fp.r.firstBad).toBe(merge);
    expect(fp.r.id).not.toBe(plain.r.id);
    // The same options again: the same bisection, resumed from what is stored.
    expect((await bisect(repo, shas[0]!, head, ['--json'])).r.id).toBe(plain.r.id);

    const fpShown = await show(repo, String(fp.r.id));
    expect(fpShown.status, fpShown.stderr).toBe(0);
    const fpSteps = (fpShown.out.steps as { probe: string }[]).map((s) => s.probe.slice(0, 40));
    for (const s of side) expect(fpSteps).not.toContain(s);
    expect(fpSteps).toContain(merge);
    const spec = fpShown.out.spec as Record<string, unknown>;
    expect(spec).toMatchObject({ firstParent: true, metric: 'instructions', mode: 'serial', touch: 'none', warmup: 1, repeat: 10, threshold: 2, direction: 'regression', flags: {}, good: shas[0], bad: head });
    expect(spec.trace).toMatch(/^[0-9a-f]{64}$/);
    expect(spec.target).toMatchObject({ repo, artifact: 'libtinyslab.so' });
    const plainShown = await show(repo, String(plain.r.id));
    expect((plainShown.out.spec as Record<string, unknown>).firstParent).toBe(false);
    expect((plainShown.out.steps as { probe: string }[]).map((s) => s.probe.slice(0, 40))).toContain(side[1]);
    // The text says which options each one ran with.
    expect((await show(repo, String(fp.r.id), false)).stdout).toMatch(/^bisection \d+: commits, metric instructions, .*first-parent/);
    expect((await show(repo, String(plain.r.id), false)).stdout).not.toMatch(/first-parent/);
    // Another threshold is another bisection too.
    expect((await bisect(repo, shas[0]!, head, ['--json', '--threshold', '5'])).r.id).not.toBe(plain.r.id);
  });

  it('bisect show: a non-number is a usage error, an unknown id a failure; neither an internal error', async () => {
    const { repo, shas } = makeHistory(dir, 'show', [{ subject: 'Split the hot helpers out of line', edit: setDefault('TS_INLINE', '0') }]);
    expect((await bisect(repo, shas[0]!, shas[1]!)).status).toBe(0);
    // --improvement on a regression says so the other way round.
    const wrongWay = await bisect(repo, shas[0]!, shas[1]!, ['--improvement']);
    expect(wrongWay.status).toBe(2);
    expect(wrongWay.stderr).toMatch(/^allocreplay: the bad end is worse, not better: .*\(\+[\d.]+%, threshold 2%\) \(drop --improvement/m);
    // A refused bisection leaves nothing stored: there is still one bisection only.
    expect((await show(repo, '1')).status).toBe(0);
    expect((await show(repo, '2')).status).toBe(1);
    const abc = await show(repo, 'abc');
    expect(abc.status).toBe(2);
    expect(abc.stderr).toMatch(/^allocreplay: bisection id 'abc' is not a number \(/);
    const unknown = await show(repo, '99');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^allocreplay: no bisection 99 in this database \(/);
    for (const r of [abc, unknown]) expect(r.stderr).not.toMatch(/internal error|TypeError|at .*\.js/);
  });
});

describe('reversed ends and --improvement', () => {
  it('a faster bad end is a usage error naming --improvement; with it, the commit that made it faster is found', async () => {
    // Starts with the helpers out of line; commit 4 inlines them again (fewer instructions).
    const changes = notes(6);
    changes[3] = { subject: 'Inline the hot helpers again', edit: setDefault('TS_INLINE', '1') };
    const { repo, shas } = makeHistory(dir, 'faster', changes, setDefault('TS_INLINE', '0'));
    const r = await bisect(repo, shas[0]!, shas[6]!);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^allocreplay: the bad end is better, not worse: bad [0-9a-f]{10} measures \d+ against \d+ \(-[\d.]+%, threshold 2%\) \(to find the change that made it better, add --improvement/m);
    // Ends given newest first: said so before anything is built.
    const swapped = await bisect(repo, shas[6]!, shas[0]!);
    expect(swapped.status).toBe(2);
    expect(swapped.stderr).toMatch(/^allocreplay: --good \S+ is newer than --bad \S+: the good end must be the older one .*\(swap --good and --bad;.*--improvement\)/);
    for (const x of [r, swapped]) expect(x.stderr).not.toMatch(/internal error|TypeError/);

    const better = await bisect(repo, shas[0]!, shas[6]!, ['--improvement', '--json']);
    expect(better.status, better.stderr).toBe(0);
    expect(better.r.direction).toBe('improvement');
    expect(better.r.firstBad).toBe(shas[4]);
    expect(better.r.firstBadCommit!.subject).toBe('Inline the hot helpers again');
    expect(better.r.firstBadCommit!.deltaPct).toBeLessThan(-2);
    expect(better.r.share!.pct).toBeCloseTo(100, 6);
    const text = await bisect(repo, shas[0]!, shas[6]!, ['--improvement']);
    expect(text.stdout).toMatch(new RegExp(`^${shas[4]} is the first commit that made it better`, 'm'));
    // Where nothing changed, there is no improvement to bisect either.
    const flat = await bisect(repo, shas[4]!, shas[6]!, ['--improvement']);
    expect(flat.status).toBe(2);
    expect(flat.stderr).toMatch(/^allocreplay: no improvement to bisect: .* \(0\.00%, threshold 2%\)/m);
  });
});

describe('only unbuildable commits left', () => {
  it('lists the candidates (hash and subject) like git bisect, stores it, and exits 2', async () => {
    // 2 breaks the build, 3 is the culprit (still broken), 4 too, 5 repairs it.
    const changes = notes(7);
    changes[1] = { subject: 'WIP: does not build', edit: breakBuild };
    changes[2] = { subject: 'Split the hot helpers out of line', edit: setDefault('TS_INLINE', '0') };
    changes[3] = { subject: 'WIP: still does not build' };
    changes[4] = { subject: 'Fix the build', edit: fixBuild };
    const { repo, shas } = makeHistory(dir, 'unbuildable', changes);
    const r = await bisect(repo, shas[0]!, shas[7]!, ['--json']);
    expect(r.status, r.stderr).toBe(2);
    expect(r.r.outcome).toBe('candidates');
    expect(r.r.firstBad).toBeUndefined();
    expect(r.r.firstBadCommit).toBeUndefined();
    expect(r.r.candidates).toEqual([
      { commit: shas[2], subject: 'WIP: does not build', skipped: true },
      { commit: shas[3], subject: 'Split the hot helpers out of line', skipped: true },
      { commit: shas[4], subject: 'WIP: still does not build', skipped: true },
      { commit: shas[5], subject: 'Fix the build', skipped: false },
    ]);
    // The stored result says the same.
    const stored = await show(repo, String(r.r.id));
    expect(stored.status).toBe(0);
    expect((stored.out.result as BisectResult).outcome).toBe('candidates');
    // As text: each candidate on a line of its own, and no commit named as the first bad one.
    const text = await bisect(repo, shas[0]!, shas[7]!);
    expect(text.status).toBe(2);
    expect(text.stdout).toMatch(/only skipped \(unbuildable\) commits are left to test: the first bad commit is one of/);
    for (const i of [2, 3, 4, 5]) expect(text.stdout).toContain(`${shas[i]} ${changes[i - 1]!.subject}`);
    expect(text.stdout).not.toMatch(/is the first bad commit/);
  });
});

describe('how much of the change the answer explains', () => {
  it('under 80% it says so and names the range that holds the rest; bisecting that range finds the other commit', async () => {
    // Commit 3: helpers out of line (+13%); commit 9: no per-thread cache (far more).
    const changes = notes(12);
    changes[2] = { subject: 'Split the hot helpers out of line', edit: setDefault('TS_INLINE', '0') };
    changes[8] = { subject: 'One global heap', edit: setDefault('TS_TLS_CACHE', '0') };
    const { repo, shas } = makeHistory(dir, 'two-steps', changes);
    const r = await bisect(repo, shas[0]!, shas[12]!, ['--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.r.firstBad).toBe(shas[3]);
    const share = r.r.share!;
    expect(share.explainsMost).toBe(false);
    expect(share.pct).toBeLessThan(80);
    expect(share.pct).toBeCloseTo((share.stepDelta / share.totalDelta) * 100, 9);
    expect(share.totalDelta).toBe(r.r.bad.value - r.r.good.value);
    expect(share.next).toHaveLength(1);
    expect(share.next[0]).toMatchObject({ good: shas[3], bad: shas[12], beyondThreshold: true });
    const text = await bisect(repo, shas[0]!, shas[12]!);
    expect(text.stdout).toMatch(new RegExp(`warning: this commit explains only ${share.pct.toFixed(0)}% of the whole change \\(\\+[\\d.]+% of \\+[\\d.]+%, under 80%\\): the rest lies elsewhere`));
    expect(text.stdout).toContain(`bisect next: --good ${shas[3]!.slice(0, 10)} --bad ${shas[12]!.slice(0, 10)}`);

    const next = await bisect(repo, shas[3]!, shas[12]!, ['--json']);
    expect(next.status, next.stderr).toBe(0);
    expect(next.r.firstBad).toBe(shas[9]);
    expect(next.r.share!.explainsMost).toBe(true);
    expect((await bisect(repo, shas[3]!, shas[12]!)).stdout).toMatch(/this commit explains 100% of the whole change/);
  });
});

describe('time metric', () => {
  it('confirms the final pair with 3× the repetitions, interleaved, and the JSON carries the confirmation', async () => {
    // A wrapper allocator; commit 3 makes malloc several times dearer.
    const { repo, git, write } = makeWrapperRepo(dir, 'timed', '');
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'plain wrapper');
    const shas = [git('rev-parse', 'HEAD')];
    for (let i = 1; i <= 5; i++) {
      write(`  /* ${i} */${i >= 3 ? '\n  for (int i = 0; i < 4000; i++) sink += (unsigned long)i;' : ''}`);
      git('commit', '-qam', i === 3 ? 'Spin in malloc' : `note ${i}`);
      shas.push(git('rev-parse', 'HEAD'));
    }
    // A wide threshold (the step is well over ×10: 4000 spins per malloc against ~20 ns per op): the search must not
    // take machine noise on a loaded machine for the step.
    const r = await bisect(repo, shas[0]!, shas[5]!, ['--metric', 'time', '--repeat', '3', '--threshold', '500', '--json'], WRAPPER);
    expect(r.status, r.stderr).toBe(0);
    expect(r.r.firstBad).toBe(shas[3]);
    const c = r.r.confirmation!;
    expect(c.repeat).toBe(9);
    expect(c.good).toMatchObject({ commit: shas[2], n: 9 });
    expect(c.bad).toMatchObject({ commit: shas[3], n: 9 });
    expect(c.verdict).toBe('regression');
    expect(c.withinNoise).toBe(false);
    expect(c.ci[0]).toBeGreaterThan(6);
    expect(c.p).toBeLessThan(0.05);
    // Instruction counts are exact: nothing to confirm.
    const exact = await bisect(repo, shas[0]!, shas[5]!, ['--json'], WRAPPER);
    expect(exact.status, exact.stderr).toBe(0);
    expect(exact.r.confirmation).toBeUndefined();
  });
});

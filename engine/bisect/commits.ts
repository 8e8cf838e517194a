import { spawnSync } from 'node:child_process';
import { compareSamples } from '../../reports/index.js';
import { usageError } from '../../traces/index.js';
import { listRevisions, resolveRevision } from '../build/index.js';
import { median } from '../../reports/index.js';
import { calibrateTraces, makeJob, measure, planTrace } from '../runner/index.js';
import { readySource } from '../runner/targets.js';
import { attributionFor, bisectionSpec, checkEnds, type Ctx, finish, hasChange, makeCtx, type Measurement, open, probe, record, SHARE_WARN_PCT } from './probe.js';
import type { BisectCommon, BisectDirection, BisectResult, ChangeShare, CommitRef, Confirmation, NextRange } from './types.js';

function git(repo: string, ...args: string[]): { status: number; out: string } {
  const r = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, out: (r.stdout ?? '').trim() };
}

/**
 * The good end must be an ancestor of the bad one: the commits between
 * are then exactly what `git log good..bad` lists. Reversed or unrelated
 * ends are a usage error that says which.
 */
function checkOrder(repo: string, good: string, bad: string, goodRev: string, badRev: string): void {
  if (goodRev === badRev) throw usageError(`--good ${good} and --bad ${bad} are the same commit (${goodRev.slice(0, 10)})`, 'give an older commit as --good');
  if (git(repo, 'merge-base', '--is-ancestor', goodRev, badRev).status === 0) return;
  if (git(repo, 'merge-base', '--is-ancestor', badRev, goodRev).status === 0) {
    throw usageError(
      `--good ${good} is newer than --bad ${bad}: the good end must be the older one (an ancestor of the bad end)`,
      'swap --good and --bad; to find the commit that made it better, keep the older commit as --good and add --improvement',
    );
  }
  throw usageError(`--good ${good} is not an ancestor of --bad ${bad}`, `pick a --good on the history of --bad (\`git -C ${repo} merge-base ${good} ${bad}\` is one)`);
}

/** How much of bad − good the step lastGood → firstBad explains, and where the rest lies. */
function shareOf(ctx: Ctx, ends: { good: CommitRef & { value: number }; lastGood: CommitRef & { value: number }; firstBad: CommitRef & { value: number }; bad: CommitRef & { value: number } }): ChangeShare {
  const { good, lastGood, firstBad, bad } = ends;
  const stepDelta = firstBad.value - lastGood.value;
  const totalDelta = bad.value - good.value;
  const pct = (stepDelta / totalDelta) * 100;
  const sign = ctx.direction === 'improvement' ? -1 : 1;
  const ranges: NextRange[] = [];
  const add = (from: CommitRef & { value: number }, to: CommitRef & { value: number }): void => {
    if (from.commit === to.commit) return;
    const delta = to.value - from.value;
    if (sign * delta <= 0) return;
    ranges.push({ good: from.commit, bad: to.commit, delta, deltaPct: (delta / from.value) * 100, beyondThreshold: hasChange(ctx, from.value, to.value) });
  };
  add(firstBad, bad);
  add(good, lastGood);
  ranges.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta));
  return { pct, stepDelta, totalDelta, explainsMost: pct >= SHARE_WARN_PCT, next: pct >= SHARE_WARN_PCT ? [] : ranges };
}

/**
 * Judges a step from its real samples (bootstrap CI of the ratio of
 * medians and Mann–Whitney, as `report compare` does): within noise unless
 * the rule confirms a change in the bisection's direction.
 */
export function judgeStep(good: number[], bad: number[], thresholdPct: number, direction: BisectDirection): Omit<Confirmation, 'repeat' | 'good' | 'bad'> {
  const c = compareSamples(good, bad, { thresholdPct, exact: false });
  return { deltaPct: c.deltaPct, ci: c.ci, p: c.p, verdict: c.verdict, withinNoise: c.verdict !== direction, ...(c.note ? { note: c.note } : {}) };
}

/**
 * Time metric: measures the final pair again with three times the
 * repetitions (at least 5 a side, so the rank test can decide), interleaved
 * so machine drift falls on both alike.
 */
async function confirm(ctx: Ctx, flags: Record<string, string>, lastGood: string, firstBad: string): Promise<Confirmation> {
  const repeat = Math.max(3 * ctx.options.repeat, 5);
  const jobs = [lastGood, firstBad].map((rev) => makeJob(ctx.store, ctx.trace, readySource(ctx.store, ctx.source, rev, flags), ctx.options));
  const outcomes = await measure(ctx.store, ctx.session, jobs, { ...ctx.options, repeat }, { interleave: true, retryFailed: true });
  const side = (i: number): { commit: string; values: number[]; failed?: string } => {
    const o = outcomes.find((x) => x.configHash === jobs[i]!.configHash);
    const values = o?.status === 'ok' ? o.samples.map((s) => s.nsPerOp) : [];
    return { commit: i ? firstBad : lastGood, values, ...(o?.status !== 'ok' ? { failed: o?.status ?? 'not measured' } : {}) };
  };
  const g = side(0);
  const b = side(1);
  const judged = judgeStep(g.values, b.values, ctx.thresholdPct, ctx.direction);
  const failed = g.failed ?? b.failed;
  return {
    repeat,
    good: { commit: g.commit, median: median(g.values), n: g.values.length },
    bad: { commit: b.commit, median: median(b.values), n: b.values.length },
    ...judged,
    ...(failed ? { note: `could not measure the pair again (${failed})` } : {}),
  };
}

/**
 * Binary search for the first bad commit in (good, bad]. A commit that
 * fails to build is skipped like `git bisect skip`: the search tries its
 * neighbours instead. When only skipped commits lie between the last good
 * and the first bad one, no commit is named: the answer is the list of
 * candidates.
 */
export async function bisectCommits(c: BisectCommon & { good: string; bad: string; flags: Record<string, string>; firstParent: boolean }): Promise<BisectResult> {
  const goodRev = resolveRevision(c.source, c.good).commit;
  const badRev = resolveRevision(c.source, c.bad).commit;
  checkOrder(c.source.repo, c.good, c.bad, goodRev, badRev);
  const trace = planTrace(c.store, c.trace);
  await calibrateTraces(c.store, [trace], c.options);
  const spec = bisectionSpec('commits', c, trace, { good: goodRev, bad: badRev, flags: c.flags, firstParent: c.firstParent === true });
  const ctx = makeCtx(c, trace, 'commits', spec);
  const commits = listRevisions(c.source.repo, goodRev, badRev, c.firstParent);
  if (!commits.length || commits.at(-1)!.commit !== badRev) throw usageError(`no commits to bisect between ${c.good} and ${c.bad}${c.firstParent ? ' along first parents' : ''}`, 'check --good and --bad (and --first-parent)');
  const goodRef: CommitRef = { commit: goodRev, subject: git(c.source.repo, 'log', '-1', '--format=%s', goodRev).out };
  const step = (rev: string, subject: string, m: Measurement, verdict: 'good' | 'bad' | 'skip'): void => {
    record(ctx, { probe: rev, subject, value: m.value, verdict }, m);
  };
  const g = await probe(ctx, goodRev, c.flags);
  step(goodRev, 'good', g, 'good');
  const b = await probe(ctx, badRev, c.flags);
  step(badRev, commits.at(-1)!.subject, b, 'bad');
  if (g.value === null || b.value === null) throw usageError(`cannot bisect: the ${g.value === null ? 'good' : 'bad'} revision does not build or run`, 'pick revisions that build (`allocreplay target build`)');
  checkEnds(ctx, g.value, b.value, `bad ${badRev.slice(0, 10)}`);
  open(ctx);
  // Invariant: commits[lo] is good (or the good revision when lo = -1), commits[hi] is bad.
  let lo = -1;
  let hi = commits.length - 1;
  let badM: Measurement = b;
  let goodM: Measurement = g;
  const skipped = new Set<number>();
  let onlySkipped = false;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    // The untested commit nearest the middle that has not been skipped.
    let pick = -1;
    for (let d = 0; d < hi - lo && pick < 0; d++) {
      for (const cand of [mid - d, mid + d]) if (cand > lo && cand < hi && !skipped.has(cand) && pick < 0) pick = cand;
    }
    if (pick < 0) {
      onlySkipped = true;
      break;
    }
    const rev = commits[pick]!.commit;
    const m = await probe(ctx, rev, c.flags);
    const verdict = m.value === null ? 'skip' : hasChange(ctx, g.value, m.value) ? 'bad' : 'good';
    step(rev, commits[pick]!.subject, m, verdict);
    if (verdict === 'skip') skipped.add(pick);
    else if (verdict === 'bad') {
      hi = pick;
      badM = m;
    } else {
      lo = pick;
      goodM = m;
    }
  }
  const ends = { good: { probe: goodRev, value: g.value }, bad: { probe: badRev, value: b.value } };
  if (onlySkipped) {
    return finish(ctx, {
      ...ends,
      outcome: 'candidates',
      candidates: commits.slice(lo + 1, hi + 1).map((x, i) => ({ ...x, skipped: skipped.has(lo + 1 + i) })),
      attribution: [],
    });
  }
  const first = commits[hi]!;
  const lastGood = lo >= 0 ? commits[lo]! : goodRef;
  const share = shareOf(ctx, {
    good: { ...goodRef, value: g.value },
    lastGood: { ...lastGood, value: goodM.value! },
    firstBad: { ...first, value: badM.value! },
    bad: { ...commits.at(-1)!, value: b.value },
  });
  const confirmation = c.options.metric === 'time' ? await confirm(ctx, c.flags, lastGood.commit, first.commit) : undefined;
  const attributionRows = c.attribution && c.options.metric === 'instructions' ? await attributionFor(ctx, goodM.library, badM.library) : [];
  return finish(ctx, {
    ...ends,
    outcome: 'found',
    firstBad: first.commit,
    firstBadCommit: { commit: first.commit, subject: first.subject, value: badM.value!, deltaPct: ((badM.value! - goodM.value!) / goodM.value!) * 100, lastGood: { ...lastGood, value: goodM.value! } },
    share,
    ...(confirmation ? { confirmation } : {}),
    attribution: attributionRows,
  });
}

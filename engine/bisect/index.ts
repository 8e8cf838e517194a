import { compareSamples, median, type Store } from '../../reports/index.js';
import { usageError } from '../../traces/index.js';
import { listRevisions, resolveRevision, type SourceTarget } from '../build/index.js';
import { discardProfile, type ReplayOptions, runReplay } from '../driver/index.js';
import { makeJob, measure, planTrace, type PlannedTrace } from '../runner/index.js';
import { readySource } from '../runner/targets.js';
import { attribute, type FunctionDelta, profileFunctions } from './attribution.js';

export { attribute, profileFunctions, type FunctionCost, type FunctionDelta } from './attribution.js';

export interface BisectStep {
  step: number;
  /** A revision (commits) or the flags under test (flags). */
  probe: string;
  subject?: string;
  value: number | null;
  verdict: 'good' | 'bad' | 'skip';
  buildKey?: string;
  runId?: number;
}

export interface BisectResult {
  id: number;
  kind: 'commits' | 'flags';
  good: { probe: string; value: number };
  bad: { probe: string; value: number };
  /** The first bad commit's id (commits). */
  firstBad?: string;
  firstBadCommit?: { commit: string; subject: string; value: number; deltaPct: number };
  culprits?: Record<string, string>;
  steps: BisectStep[];
  /** Distinct builds this bisection used (cached or not). */
  builds: number;
  attribution: FunctionDelta[];
}

interface Measurement {
  value: number | null;
  buildKey?: string;
  runId?: number;
  library?: string;
}

interface Ctx {
  store: Store;
  session: number;
  source: SourceTarget;
  trace: PlannedTrace;
  options: ReplayOptions;
  thresholdPct: number;
  onStep: (s: BisectStep) => void;
  buildKeys: Set<string>;
}

/** Builds (cached) and measures one configuration, reusing a stored run. */
async function probe(ctx: Ctx, rev: string | undefined, flags: Record<string, string>): Promise<Measurement> {
  const ready = readySource(ctx.store, ctx.source, rev, flags);
  const key = ready.buildId !== undefined ? String(ready.buildId) : `${rev}:${JSON.stringify(flags)}`;
  ctx.buildKeys.add(key);
  if (ready.buildError) return { value: null, buildKey: key };
  const job = makeJob(ctx.store, ctx.trace, ready, ctx.options);
  const outcome = (await measure(ctx.store, ctx.session, [job], ctx.options))[0]!;
  const values = outcome.samples.map((s) => (ctx.options.metric === 'time' ? s.nsPerOp : (s.instructions ?? NaN)));
  return { value: outcome.status === 'ok' && values.length ? median(values) : null, buildKey: key, ...(outcome.runId !== undefined ? { runId: outcome.runId } : {}), ...(ready.target.library ? { library: ready.target.library } : {}) };
}

function isBad(ctx: Ctx, good: number, value: number): boolean {
  return compareSamples([good], [value], { thresholdPct: ctx.thresholdPct, exact: true }).verdict === 'regression';
}

function saveStep(store: Store, id: number, s: BisectStep): void {
  const buildId = s.buildKey && /^\d+$/.test(s.buildKey) ? Number(s.buildKey) : undefined;
  store.saveBisectionStep(id, { step: s.step, probe: s.subject ? `${s.probe} ${s.subject}` : s.probe, value: s.value, verdict: s.verdict, ...(buildId !== undefined ? { buildId } : {}), ...(s.runId !== undefined ? { runId: s.runId } : {}) });
}

/** Callgrind profiles of both ends and their per-function deltas (instructions metric only). */
async function attributionFor(ctx: Ctx, goodLib: string | undefined, badLib: string | undefined): Promise<FunctionDelta[]> {
  if (!goodLib || !badLib) return [];
  const profile = async (library: string): Promise<ReturnType<typeof profileFunctions>> => {
    const r = await runReplay(ctx.trace.plan, { name: ctx.source.name, kind: 'source', library, env: {} }, { ...ctx.options, metric: 'instructions' });
    if (!r.profilePath) return [];
    try {
      return profileFunctions(r.profilePath);
    } finally {
      discardProfile(r);
    }
  };
  return attribute(await profile(goodLib), await profile(badLib));
}

export interface BisectCommon {
  store: Store;
  session: number;
  source: SourceTarget;
  trace: string;
  options: ReplayOptions;
  thresholdPct: number;
  attribution: boolean;
  onStep?: (s: BisectStep) => void;
}

function finish(store: Store, id: number, result: Omit<BisectResult, 'id'>): BisectResult {
  const full = { id, ...result };
  store.finishBisection(id, full);
  return full;
}

function refuse(good: number, bad: number, t: number, what: string): never {
  throw usageError(`no regression to bisect: ${what} measures ${bad} against ${good} (${(((bad - good) / good) * 100).toFixed(2)}%, threshold ${t}%)`, 'check --good and --bad, or lower --threshold');
}

/**
 * Binary search for the first bad commit in (good, bad]. A commit that
 * fails to build is skipped like `git bisect skip`: the search tries its
 * neighbours instead.
 */
export async function bisectCommits(c: BisectCommon & { good: string; bad: string; flags: Record<string, string>; firstParent: boolean }): Promise<BisectResult> {
  const goodRev = resolveRevision(c.source, c.good).commit;
  const badRev = resolveRevision(c.source, c.bad).commit;
  const trace = planTrace(c.store, c.trace);
  const id = c.store.ensureBisection('commits', { repo: c.source.repo, build: c.source.build, good: goodRev, bad: badRev, trace: trace.plan.checksum, flags: c.flags, metric: c.options.metric, threshold: c.thresholdPct });
  const steps: BisectStep[] = [];
  const ctx: Ctx = { store: c.store, session: c.session, source: c.source, trace, options: c.options, thresholdPct: c.thresholdPct, onStep: c.onStep ?? (() => {}), buildKeys: new Set() };
  const commits = listRevisions(c.source.repo, goodRev, badRev, c.firstParent);
  const subjectOf = (rev: string): string => commits.find((x) => x.commit === rev)?.subject ?? '';
  const record = (s: BisectStep): void => {
    steps.push(s);
    saveStep(c.store, id, s);
    ctx.onStep(s);
  };
  const g = await probe(ctx, goodRev, c.flags);
  record({ step: 0, probe: goodRev, subject: 'good', value: g.value, verdict: 'good', ...(g.buildKey ? { buildKey: g.buildKey } : {}), ...(g.runId ? { runId: g.runId } : {}) });
  const b = await probe(ctx, badRev, c.flags);
  record({ step: 1, probe: badRev, subject: subjectOf(badRev), value: b.value, verdict: 'bad', ...(b.buildKey ? { buildKey: b.buildKey } : {}), ...(b.runId ? { runId: b.runId } : {}) });
  if (g.value === null || b.value === null) throw usageError(`cannot bisect: the ${g.value === null ? 'good' : 'bad'} revision does not build or run`, 'pick revisions that build (`allocreplay target build`)');
  if (!isBad(ctx, g.value, b.value)) refuse(g.value, b.value, c.thresholdPct, `bad ${badRev.slice(0, 10)}`);
  // Invariant: commits[lo] is good (or the good revision when lo = -1), commits[hi] is bad.
  let lo = -1;
  let hi = commits.length - 1;
  let badM: Measurement = b;
  let goodM: Measurement = g;
  const skipped = new Set<number>();
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    // The untested commit nearest the middle that has not been skipped.
    let pick = -1;
    for (let d = 0; d < hi - lo; d++) {
      for (const cand of [mid - d, mid + d]) if (cand > lo && cand < hi && !skipped.has(cand) && pick < 0) pick = cand;
      if (pick >= 0) break;
    }
    if (pick < 0) break; // every commit between is unbuildable
    const rev = commits[pick]!.commit;
    const m = await probe(ctx, rev, c.flags);
    const verdict = m.value === null ? 'skip' : isBad(ctx, g.value, m.value) ? 'bad' : 'good';
    record({ step: steps.length, probe: rev, subject: commits[pick]!.subject, value: m.value, verdict, ...(m.buildKey ? { buildKey: m.buildKey } : {}), ...(m.runId ? { runId: m.runId } : {}) });
    if (verdict === 'skip') skipped.add(pick);
    else if (verdict === 'bad') {
      hi = pick;
      badM = m;
    } else {
      lo = pick;
      goodM = m;
    }
  }
  const first = commits[hi]!;
  const attributionRows = c.attribution && c.options.metric === 'instructions' ? await attributionFor(ctx, goodM.library, badM.library) : [];
  return finish(c.store, id, {
    kind: 'commits',
    good: { probe: goodRev, value: g.value },
    bad: { probe: badRev, value: b.value },
    firstBad: first.commit,
    firstBadCommit: { commit: first.commit, subject: first.subject, value: badM.value!, deltaPct: ((badM.value! - goodM.value!) / goodM.value!) * 100 },
    steps,
    builds: ctx.buildKeys.size,
    attribution: attributionRows,
  });
}

/** `A=0 B=1` or `A=0,B=1` → {A: '0', B: '1'}. */
export function parseAssignment(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tok of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([A-Za-z_]\w*)=(.*)$/.exec(tok);
    if (!m) throw usageError(`'${tok}' is not NAME=value`, "write flags as 'A=0 B=1'");
    out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * Delta debugging (ddmin) over the flag changes from the good assignment to
 * the bad one: the smallest set of changes that, applied to the good
 * configuration, still regresses — interactions included.
 */
export async function bisectFlags(c: BisectCommon & { good: Record<string, string>; bad: Record<string, string> }): Promise<BisectResult> {
  const trace = planTrace(c.store, c.trace);
  const id = c.store.ensureBisection('flags', { repo: c.source.repo, build: c.source.build, good: c.good, bad: c.bad, trace: trace.plan.checksum, metric: c.options.metric, threshold: c.thresholdPct });
  const steps: BisectStep[] = [];
  const ctx: Ctx = { store: c.store, session: c.session, source: c.source, trace, options: c.options, thresholdPct: c.thresholdPct, onStep: c.onStep ?? (() => {}), buildKeys: new Set() };
  const label = (a: Record<string, string>): string => Object.entries(a).map(([k, v]) => `${k}=${v}`).join(' ');
  const cache = new Map<string, Measurement>();
  const measureAssignment = async (a: Record<string, string>): Promise<Measurement> => {
    const key = label(a);
    if (!cache.has(key)) cache.set(key, await probe(ctx, undefined, a));
    return cache.get(key)!;
  };
  const g = await measureAssignment(c.good);
  const b = await measureAssignment(c.bad);
  const push = (probeText: string, m: Measurement, verdict: BisectStep['verdict']): void => {
    const s: BisectStep = { step: steps.length, probe: probeText, value: m.value, verdict, ...(m.buildKey ? { buildKey: m.buildKey } : {}), ...(m.runId ? { runId: m.runId } : {}) };
    steps.push(s);
    saveStep(c.store, id, s);
    ctx.onStep(s);
  };
  push(label(c.good), g, 'good');
  push(label(c.bad), b, 'bad');
  if (g.value === null || b.value === null) throw usageError('cannot bisect: the good or the bad configuration does not build or run', 'check both assignments build');
  if (!isBad(ctx, g.value, b.value)) refuse(g.value, b.value, c.thresholdPct, `'${label(c.bad)}'`);
  const changes = [...new Set([...Object.keys(c.good), ...Object.keys(c.bad)])].filter((k) => c.good[k] !== c.bad[k]).sort();
  const apply = (subset: string[]): Record<string, string> => {
    const a = { ...c.good };
    for (const k of subset) {
      if (c.bad[k] === undefined) delete a[k];
      else a[k] = c.bad[k]!;
    }
    return a;
  };
  const fails = async (subset: string[]): Promise<boolean> => {
    const a = apply(subset);
    const m = await measureAssignment(a);
    const bad = m.value !== null && isBad(ctx, g.value!, m.value);
    push(label(a), m, m.value === null ? 'skip' : bad ? 'bad' : 'good');
    return bad;
  };
  // ddmin (Zeller & Hildebrandt): split into n parts; keep a failing part or complement.
  let cur = changes;
  let n = 2;
  while (cur.length >= 2) {
    const size = Math.ceil(cur.length / n);
    const parts: string[][] = [];
    for (let i = 0; i < cur.length; i += size) parts.push(cur.slice(i, i + size));
    let reduced = false;
    for (const p of parts) {
      if (await fails(p)) {
        cur = p;
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && parts.length > 2) {
      for (const p of parts) {
        const comp = cur.filter((x) => !p.includes(x));
        if (await fails(comp)) {
          cur = comp;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  const culprits = Object.fromEntries(cur.map((k) => [k, c.bad[k] ?? '(unset)']));
  const final = await measureAssignment(apply(cur));
  const attributionRows = c.attribution && c.options.metric === 'instructions' ? await attributionFor(ctx, g.library, final.library) : [];
  return finish(c.store, id, {
    kind: 'flags',
    good: { probe: label(c.good), value: g.value },
    bad: { probe: label(c.bad), value: b.value },
    culprits,
    steps,
    builds: ctx.buildKeys.size,
    attribution: attributionRows,
  });
}

/** A stored bisection, for `bisect show`. */
export function showBisection(store: Store, id: number): NonNullable<ReturnType<Store['bisection']>> & { id: number } {
  const b = store.bisection(id);
  if (!b) throw usageError(`no bisection ${id}`, '`allocreplay db query "SELECT id, kind, status FROM bisections"` lists them');
  return { id, ...b };
}

/**
 * The reports: compare (baseline vs candidate per trace), matrix
 * (configurations × traces), history (a metric over revisions), check
 * (compare, reduced to pass/fail for CI), the replay series and the stored
 * bisections. Each reads the store through selectors and returns plain
 * rows keyed by configuration hash; rendering is reports/render's job.
 */
import type { Metric } from '../../traces/index.js';
import { usageError } from '../../traces/index.js';
import { emptyNote, measured, type Measured, parseSelector, type Selector, selectRuns } from '../select/index.js';
import { type Comparison, compareSamples, mad, median, type Verdict } from '../stats/index.js';
import type { RunRow, Store } from '../store/index.js';
import { configurationNames, type Nameable, rowKey, statusText } from './labels.js';
import { machinesNote } from './machines.js';

/** At most one configuration per trace may answer a compare selector. */
function oneConfigPerTrace(list: Measured[], sel: Selector, role: string): Map<string, Measured> {
  const byTrace = new Map<string, Measured>();
  for (const m of list) {
    const had = byTrace.get(m.trace);
    if (had) {
      const names = configurationNames([had, m]);
      throw usageError(
        `${role} '${sel.text}' matches several configurations on trace ${m.trace} (${names.get(rowKey(had))} config=${had.configHash.slice(0, 8)}; ${names.get(rowKey(m))} config=${m.configHash.slice(0, 8)})`,
        'narrow it with more NAME=value parts, config=HASH or machine=HOST',
      );
    }
    byTrace.set(m.trace, m);
  }
  return byTrace;
}

/** One trace of a comparison. */
export interface CompareRow extends Comparison {
  trace: string;
  metric: Metric;
  /** What tells each side apart (the label pass over every side of the comparison; every field with `long`). */
  baseline: string;
  candidate: string;
  /** Every field of each side's configuration. */
  baselineFullLabel: string;
  candidateFullLabel: string;
  baselineHash: string;
  candidateHash: string;
  baselineN: number;
  candidateN: number;
  /** MAD of each side (same unit as the medians). */
  baselineMad: number;
  candidateMad: number;
  /** Set when the sides come from different machines: what was compared across them. */
  machines?: string;
  /** `ok`, or what happened to the side's newest run when none of its runs on this trace finished (`crashed: SIGSEGV`, `timeout`, …). */
  baselineStatus: string;
  candidateStatus: string;
}

/** Per trace, the newest not-ok run of a selector (runs come newest first). */
function failuresPerTrace(store: Store, sel: Selector, metric: Metric): Map<string, RunRow> {
  const out = new Map<string, RunRow>();
  for (const r of selectRuns(store, sel, { metric, status: 'any' }).runs) if (r.status !== 'ok' && !out.has(r.trace)) out.set(r.trace, r);
  return out;
}

/** Options of compare and check. */
export interface CompareOptions {
  metric: Metric;
  /** Percent (2 = ±2%). */
  thresholdPct: number;
  /** Bootstrap seed; default 42. */
  seed?: number;
  /** Compare timings (or instruction counts of different toolchains) measured on different machines. */
  acrossMachines?: boolean;
  /** Label each side by every field, not only what differs. */
  long?: boolean;
}

/**
 * Per trace that both selectors measured: medians, delta %, 95% CI of the
 * ratio, Mann–Whitney p and the verdict, traces in name order. A trace
 * where a side has no finished run but a failed one gets a row that says
 * what happened (no verdict). A selector that matches several
 * configurations on one trace is a usage error (it names them); so is a
 * selector with no runs, or two with no trace in common, and so are sides
 * from different machines that may not be compared (reports/compare/machines).
 */
/** One side of a comparison row: the configuration's row, its figures and how it ended. */
interface Side {
  row: Nameable;
  values: number[];
  status: string;
}

/** What a comparison row says of its two sides (labels that tell them apart, hashes, counts, spread, status). */
function sides(trace: string, metric: Metric, b: Side, c: Side) {
  // Labels are given once every row is known (named()): what differs is what differs across the whole comparison.
  return {
    trace,
    metric,
    baseline: rowKey(b.row),
    candidate: rowKey(c.row),
    baselineFullLabel: '',
    candidateFullLabel: '',
    sideRows: [b.row, c.row] as const,
    baselineHash: b.row.configHash,
    candidateHash: c.row.configHash,
    baselineN: b.values.length,
    candidateN: c.values.length,
    baselineMad: b.values.length ? mad(b.values) : NaN,
    candidateMad: c.values.length ? mad(c.values) : NaN,
    baselineStatus: b.status,
    candidateStatus: c.status,
  };
}

export function compare(store: Store, baseline: string, candidate: string, opts: CompareOptions): CompareRow[] {
  if (!(opts.thresholdPct >= 0)) throw usageError(`threshold '${opts.thresholdPct}' is not a percentage`, 'pass --threshold 2 for ±2%');
  const bs = parseSelector(baseline);
  const cs = parseSelector(candidate);
  const b = oneConfigPerTrace(measured(store, opts.metric, bs), bs, 'baseline');
  const c = oneConfigPerTrace(measured(store, opts.metric, cs), cs, 'candidate');
  const bf = failuresPerTrace(store, bs, opts.metric);
  const cf = failuresPerTrace(store, cs, opts.metric);
  // A side that selects nothing says what the database holds and how to select it.
  if (b.size === 0 && bf.size === 0) throw usageError(`baseline: ${emptyNote(store, opts.metric, baseline)}`, '`allocreplay db runs` lists what is stored');
  if (c.size === 0 && cf.size === 0) throw usageError(`candidate: ${emptyNote(store, opts.metric, candidate)}`, '`allocreplay db runs` lists what is stored');
  const rows: (CompareRow & { sideRows?: readonly [Nameable, Nameable] })[] = [];
  // Traces where a side never finished: the row says what happened instead of the trace vanishing.
  for (const trace of new Set([...bf.keys(), ...cf.keys()])) {
    const bo = b.get(trace);
    const co = c.get(trace);
    const bx = bo ? undefined : bf.get(trace);
    const cx = co ? undefined : cf.get(trace);
    if (!(bx || cx) || !(bo || bx) || !(co || cx)) continue;
    const bSide = (bo ?? bx)!;
    const cSide = (co ?? cx)!;
    const bStatus = bx ? statusText(bx) : 'ok';
    const cStatus = cx ? statusText(cx) : 'ok';
    const note = [bx ? `baseline ${bStatus}` : '', cx ? `candidate ${cStatus}` : ''].filter(Boolean).join(', ');
    const bv = bo?.values ?? [];
    const cv = co?.values ?? [];
    rows.push({
      baselineMedian: bv.length ? median(bv) : NaN,
      candidateMedian: cv.length ? median(cv) : NaN,
      deltaPct: NaN,
      ci: [NaN, NaN],
      p: 1,
      verdict: 'no change',
      exact: opts.metric === 'instructions',
      note,
      ...sides(trace, opts.metric, { row: bSide, values: bv, status: bStatus }, { row: cSide, values: cv, status: cStatus }),
    });
  }
  for (const [trace, bm] of b) {
    const cm = c.get(trace);
    if (!cm) continue;
    const machines = machinesNote(store, bm, cm, opts.metric, opts.acrossMachines ?? false);
    const cmp = compareSamples(bm.values, cm.values, { thresholdPct: opts.thresholdPct, exact: opts.metric === 'instructions', seed: opts.seed ?? 42 });
    const note = [cmp.note, machines].filter(Boolean).join('; ');
    rows.push({
      ...cmp,
      ...(note ? { note } : {}),
      ...(machines ? { machines } : {}),
      ...sides(trace, opts.metric, { row: bm, values: bm.values, status: 'ok' }, { row: cm, values: cm.values, status: 'ok' }),
    });
  }
  if (rows.length === 0) {
    throw usageError(`no trace has ${opts.metric} runs for both '${baseline}' (${[...b.keys()].join(', ')}) and '${candidate}' (${[...c.keys()].join(', ')})`, 'measure both on the same trace');
  }
  return named(rows, opts.long ?? false).sort((x, y) => x.trace.localeCompare(y.trace));
}

/** The label pass over both sides of every row; `baseline`/`candidate` held row keys until now. */
function named(rows: (CompareRow & { sideRows?: readonly [Nameable, Nameable] })[], long: boolean): CompareRow[] {
  const all = rows.flatMap((r) => [...r.sideRows!]);
  const short = configurationNames(all, { long });
  const full = configurationNames(all, { long: true });
  return rows.map(({ sideRows: _s, ...r }) => ({ ...r, baseline: short.get(r.baseline)!, candidate: short.get(r.candidate)!, baselineFullLabel: full.get(r.baseline)!, candidateFullLabel: full.get(r.candidate)! }));
}

/** True when any row is a regression. */
export function anyRegression(rows: { verdict: Verdict }[]): boolean {
  return rows.some((r) => r.verdict === 'regression');
}

/** What `report check` decides. */
export interface CheckResult {
  /** True when any trace regressed beyond the threshold: the CLI exits 1. */
  regression: boolean;
  /** Traces where the candidate crashed, timed out or failed (no run finished): the CLI exits 1 for these too. */
  candidateFailed: string[];
  thresholdPct: number;
  rows: CompareRow[];
}

/** compare(), reduced to pass/fail for CI. */
export function check(store: Store, baseline: string, candidate: string, opts: CompareOptions): CheckResult {
  const rows = compare(store, baseline, candidate, opts);
  return { regression: anyRegression(rows), candidateFailed: rows.filter((r) => r.candidateStatus !== 'ok').map((r) => r.trace), thresholdPct: opts.thresholdPct, rows };
}

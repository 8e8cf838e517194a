/**
 * The reports: compare (baseline vs candidate per trace), matrix
 * (configurations × traces), history (a metric over revisions), check
 * (compare, reduced to pass/fail for CI) and the replay series. Each reads
 * the store through selectors and returns plain rows; rendering is
 * reports/render's job.
 */
import { usageError } from '../../traces/index.js';
import { measured, type Measured, parseSelector, type ReportMetric, selectRuns, type Selector } from '../select/index.js';
import { bootstrapMedianCI, type Comparison, compareSamples, mad, median, type Verdict } from '../stats/index.js';
import type { Store } from '../store/index.js';

/** At most one configuration per trace may answer a compare selector. */
function oneConfigPerTrace(list: Measured[], sel: Selector, role: string): Map<string, Measured> {
  const byTrace = new Map<string, Measured>();
  for (const m of list) {
    const had = byTrace.get(m.trace);
    if (had) {
      throw usageError(
        `${role} '${sel.text}' matches several configurations on trace ${m.trace} (${had.label} [${had.configHash.slice(0, 8)}]; ${m.label} [${m.configHash.slice(0, 8)}])`,
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
  metric: ReportMetric;
  /** Configuration labels. */
  baseline: string;
  candidate: string;
  baselineHash: string;
  candidateHash: string;
  baselineN: number;
  candidateN: number;
  /** MAD of each side (same unit as the medians). */
  baselineMad: number;
  candidateMad: number;
}

/** Options of compare and check. */
export interface CompareOptions {
  metric: ReportMetric;
  /** Percent (2 = ±2%). */
  thresholdPct: number;
  /** Bootstrap seed; default 42. */
  seed?: number;
}

/**
 * Per trace that both selectors measured: medians, delta %, 95% CI of the
 * ratio, Mann–Whitney p and the verdict, traces in name order. A selector
 * that matches several configurations on one trace is a usage error (it
 * names them); so is a selector with no runs, or two with no trace in common.
 */
export function compare(store: Store, baseline: string, candidate: string, opts: CompareOptions): CompareRow[] {
  if (!(opts.thresholdPct >= 0)) throw usageError(`threshold '${opts.thresholdPct}' is not a percentage`, 'pass --threshold 2 for ±2%');
  const bs = parseSelector(baseline);
  const cs = parseSelector(candidate);
  const b = oneConfigPerTrace(measured(store, opts.metric, bs), bs, 'baseline');
  const c = oneConfigPerTrace(measured(store, opts.metric, cs), cs, 'candidate');
  if (b.size === 0) throw usageError(`baseline '${baseline}' matches no ok ${opts.metric} runs`, '`allocreplay db runs` lists what is stored');
  if (c.size === 0) throw usageError(`candidate '${candidate}' matches no ok ${opts.metric} runs`, '`allocreplay db runs` lists what is stored');
  const rows: CompareRow[] = [];
  for (const [trace, bm] of b) {
    const cm = c.get(trace);
    if (!cm) continue;
    const cmp = compareSamples(bm.values, cm.values, { thresholdPct: opts.thresholdPct, exact: opts.metric === 'instructions', seed: opts.seed ?? 42 });
    rows.push({
      ...cmp,
      trace,
      metric: opts.metric,
      baseline: bm.label,
      candidate: cm.label,
      baselineHash: bm.configHash,
      candidateHash: cm.configHash,
      baselineN: bm.values.length,
      candidateN: cm.values.length,
      baselineMad: mad(bm.values),
      candidateMad: mad(cm.values),
    });
  }
  if (rows.length === 0) {
    throw usageError(`no trace has ok ${opts.metric} runs for both '${baseline}' (${[...b.keys()].join(', ')}) and '${candidate}' (${[...c.keys()].join(', ')})`, 'measure both on the same trace');
  }
  return rows.sort((x, y) => x.trace.localeCompare(y.trace));
}

/** True when any row is a regression. */
export function anyRegression(rows: { verdict: Verdict }[]): boolean {
  return rows.some((r) => r.verdict === 'regression');
}

/** What `report check` decides. */
export interface CheckResult {
  /** True when any trace regressed beyond the threshold: the CLI exits 1. */
  regression: boolean;
  thresholdPct: number;
  rows: CompareRow[];
}

/** compare(), reduced to pass/fail for CI. */
export function check(store: Store, baseline: string, candidate: string, opts: CompareOptions): CheckResult {
  const rows = compare(store, baseline, candidate, opts);
  return { regression: anyRegression(rows), thresholdPct: opts.thresholdPct, rows };
}

/** One (configuration, trace) cell of the matrix. */
export interface MatrixCell {
  trace: string;
  label: string;
  configHash: string;
  machine: string;
  median: number;
  mad: number;
  /** Bootstrap 95% CI of the median (error bars). */
  lo: number;
  hi: number;
  n: number;
  /** The lowest median of its trace. */
  best: boolean;
  /** median ÷ best median of the trace (1 for the best). */
  relative: number;
  /** tinyslab's soft-cap fallbacks (TS_STATS), from the newest run that recorded them. */
  fallbacks?: number;
}

/** Configurations × traces: medians with spread and CI, the best per trace marked. */
export function matrixReport(store: Store, opts: { metric: ReportMetric; selector?: string }): MatrixCell[] {
  const list = measured(store, opts.metric, opts.selector ? parseSelector(opts.selector) : undefined);
  const cells: MatrixCell[] = list.map((m) => {
    const fb = m.runs.find((r) => r.allocatorStats?.cap_fallbacks !== undefined)?.allocatorStats?.cap_fallbacks;
    const [lo, hi] = bootstrapMedianCI(m.values);
    return { trace: m.trace, label: m.label, configHash: m.configHash, machine: m.machine, median: median(m.values), mad: mad(m.values), lo, hi, n: m.values.length, best: false, relative: 1, ...(fb !== undefined ? { fallbacks: fb } : {}) };
  });
  for (const t of new Set(cells.map((c) => c.trace))) {
    const mine = cells.filter((c) => c.trace === t);
    const best = Math.min(...mine.map((c) => c.median));
    for (const c of mine) {
      c.best = c.median === best;
      c.relative = c.median / best;
    }
  }
  return cells;
}

/** One revision of a history line. */
export interface HistoryPoint {
  revision: string;
  label: string;
  configHash: string;
  median: number;
  n: number;
  /** The first run's time (ISO): the order when commit order is unknown. */
  created: string;
  /** Against the previous point of the same line (absent on the first). */
  step?: Comparison;
}

/** Options of history. */
export interface HistoryOptions {
  metric: ReportMetric;
  /** Selector of the runs; the empty string selects all. */
  selector: string;
  /** Commit hashes oldest first (`git rev-list --reverse`): points follow it; revisions not in it go last, by run time. */
  order?: string[];
  /** Percent, for each step's verdict (default 2). */
  thresholdPct?: number;
}

/**
 * A metric over revisions. One line per trace and configuration-apart-from-
 * revision (a flag set measured at several commits); the key is the trace
 * name, followed by ` · LABEL` when a trace has several lines. Points are in
 * commit order when `order` is given, else in run-time order. Runs without
 * a revision are left out.
 */
export function history(store: Store, opts: HistoryOptions): Map<string, HistoryPoint[]> {
  const list = measured(store, opts.metric, parseSelector(opts.selector)).filter((m) => m.revision);
  // The label without its `@rev`: what stays the same along a line.
  const variant = (m: Measured): string => m.label.replace(/^(\S+)@\S+/, '$1');
  const lines = new Map<string, { trace: string; variant: string; points: HistoryPoint[] }>();
  const samples = new Map<HistoryPoint, number[]>();
  for (const m of list) {
    const key = `${m.trace}\0${variant(m)}`;
    const line = lines.get(key) ?? { trace: m.trace, variant: variant(m), points: [] };
    const point: HistoryPoint = { revision: m.revision!, label: m.label, configHash: m.configHash, median: median(m.values), n: m.values.length, created: m.runs.map((r) => r.created).sort()[0]! };
    samples.set(point, m.values);
    line.points.push(point);
    lines.set(key, line);
  }
  const order = opts.order;
  const pos = (rev: string): number => (order ? order.findIndex((c) => c.startsWith(rev) || rev.startsWith(c)) : -1);
  const perTrace = new Map<string, number>();
  for (const l of lines.values()) perTrace.set(l.trace, (perTrace.get(l.trace) ?? 0) + 1);
  const out = new Map<string, HistoryPoint[]>();
  for (const l of [...lines.values()].sort((a, b) => a.trace.localeCompare(b.trace) || a.variant.localeCompare(b.variant))) {
    const pts = l.points;
    pts.sort((a, b) => {
      const pa = pos(a.revision);
      const pb = pos(b.revision);
      if (pa >= 0 && pb >= 0) return pa - pb;
      if (pa >= 0 !== pb >= 0) return pa >= 0 ? -1 : 1;
      return a.created.localeCompare(b.created);
    });
    for (let i = 1; i < pts.length; i++) {
      pts[i]!.step = compareSamples(samples.get(pts[i - 1]!)!, samples.get(pts[i]!)!, { thresholdPct: opts.thresholdPct ?? 2, exact: opts.metric === 'instructions' });
    }
    out.set(perTrace.get(l.trace)! > 1 ? `${l.trace} · ${l.variant}` : l.trace, pts);
  }
  return out;
}

/** Live bytes vs RSS over one replay of each configuration on a trace. */
export interface SeriesReport {
  trace: string;
  /** Live bytes of the trace (KiB) at each sampled op: the same for every configuration. */
  live: { op: number; kib: number }[];
  /** RSS growth (KiB) per configuration, from its newest run that carries a series. */
  rss: { label: string; points: { op: number; kib: number }[] }[];
}

/**
 * Per trace, the series the driver sampled (the newest run per
 * configuration that has one; at most `maxConfigurations` per trace, 6 by
 * default).
 */
export function seriesReport(store: Store, opts: { selector?: string; maxConfigurations?: number } = {}): SeriesReport[] {
  const { runs } = selectRuns(store, opts.selector);
  const out = new Map<string, SeriesReport>();
  const seen = new Set<string>();
  for (const r of runs) {
    if (!r.series || r.series.length < 2) continue;
    const key = `${r.trace}\0${r.configHash}\0${r.machine}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let s = out.get(r.trace);
    if (!s) {
      s = { trace: r.trace, live: r.series.map((p) => ({ op: p.op, kib: p.liveBytes / 1024 })), rss: [] };
      out.set(r.trace, s);
    }
    if (s.rss.length < (opts.maxConfigurations ?? 6)) s.rss.push({ label: r.label, points: r.series.map((p) => ({ op: p.op, kib: p.rssKiB })) });
  }
  return [...out.values()].sort((a, b) => a.trace.localeCompare(b.trace));
}

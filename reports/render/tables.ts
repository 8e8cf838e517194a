/**
 * Text renderings of every report: table (terminal, colour optional),
 * markdown, json and csv. HTML is html.ts.
 */
import type { Metric } from '../../traces/index.js';
import { type CheckResult, type CompareRow, type HistoryLine, historyAxes, type MatrixCell, rowKey, signedPct, unclearBests } from '../compare/index.js';
import { mad, median } from '../stats/index.js';
import { csv, markdownTable, painter, sparkline, stdoutColor, table } from './text.js';

/** Every report's output formats. */
export type ReportFormat = 'table' | 'markdown' | 'json' | 'csv' | 'html';
/** The formats rendered to text here. */
export type TextFormat = Exclude<ReportFormat, 'html'>;

/** Rendering options: colour applies to `table` only (default: stdout is a TTY). */
export interface RenderOptions {
  color?: boolean;
}

/** `12.34 ns/op` or `1,234,567 Ir`. */
export function formatValue(v: number, metric: Metric): string {
  if (!Number.isFinite(v)) return '—';
  return metric === 'time' ? `${v.toFixed(2)} ns/op` : `${Math.round(v).toLocaleString('en-US')} Ir`;
}

const spreadOf = (m: number, d: number, metric: Metric): string => (metric === 'time' ? `${m.toFixed(2)} ± ${d.toFixed(2)}` : Math.round(m).toLocaleString('en-US'));
/** `+1.23%` (reports/compare's one signed percentage). */
export const pct = (d: number): string => signedPct(d);
const pText = (p: number): string => (p < 0.001 ? '<0.001' : p.toFixed(3));

/** hyperfine's phrasing: `1.20× slower` / `1.05× faster`. */
export function ratioText(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  return ratio >= 1 ? `${ratio.toFixed(2)}× slower` : `${(1 / ratio).toFixed(2)}× faster`;
}

/**
 * A ratio with its uncertainty, hyperfine's way: `1.05 ± 0.03× slower`,
 * `1.20 ± 0.04× faster`, or `no clear difference (0.97 … 1.08)` when the
 * 95% CI of the ratio (candidate ÷ baseline) holds 1. The ± is half the CI's
 * width, in the direction printed; a CI too lopsided for a ± that stays
 * clear of 1 is printed as it is: `1.03× slower (95% CI 1.01 … 2.44)`.
 */
export function ratioWithUncertainty(ratio: number, ci: readonly [number, number]): string {
  if (!Number.isFinite(ratio)) return '—';
  if (!Number.isFinite(ci[0]) || !Number.isFinite(ci[1])) return ratioText(ratio);
  if (ci[0] <= 1 && ci[1] >= 1) return `no clear difference (${ci[0].toFixed(2)} … ${ci[1].toFixed(2)})`;
  const [r, lo, hi] = ratio >= 1 ? [ratio, ci[0], ci[1]] : [1 / ratio, 1 / ci[1], 1 / ci[0]];
  const way = ratio >= 1 ? 'slower' : 'faster';
  const half = (hi - lo) / 2;
  // A lopsided CI (one slow repetition) would make `r ± half` reach below 1: then the interval itself is shown.
  if (r - half <= 1) return `${r.toFixed(2)}× ${way} (95% CI ${lo.toFixed(2)} … ${hi.toFixed(2)})`;
  return `${r.toFixed(2)} ± ${half.toFixed(2)}× ${way}`;
}

/** One timed repetition, as the warnings need it. */
export interface TimedSample {
  /** Wall time of the timed region, ns. */
  wallNs: number;
  nsPerOp: number;
}

/** Timed region below which a figure is mostly timer and scheduling noise (ns). */
export const SHORT_REGION_NS = 5e6;

/** What makes a configuration's timings doubtful. */
export type TimingWarningKind = 'short' | 'cold' | 'outliers' | 'spread';

/** One doubt about a configuration's timings: what, in a few words. */
export interface TimingWarning {
  kind: TimingWarningKind;
  text: string;
}

/** What to do about each kind of doubt (printed once under a table, however many rows have it). */
export const TIMING_ADVICE: Record<TimingWarningKind, string> = {
  short: 'a short timed region is mostly timer and scheduling noise: use a longer trace (more --ops)',
  cold: 'a cold first repetition: raise --warmup',
  outliers: 'outliers: another program may have interfered: quiet the machine, or add --repeat',
  spread: 'a high spread: quiet the machine, or add --repeat',
};

/**
 * hyperfine-style doubts about one configuration's timings: outliers
 * (modified z-score > 3.5 from median and MAD), a high spread (MAD over 5%
 * of the median), a short timed region (under 5 ms), a first repetition
 * much slower than the rest (over 1.5× their median). Samples are in
 * repetition order.
 */
export function timingWarnings(samples: readonly TimedSample[]): TimingWarning[] {
  const out: TimingWarning[] = [];
  const xs = samples.map((s) => s.nsPerOp);
  if (xs.length === 0) return out;
  const m = median(xs);
  const spread = mad(xs);
  const wall = median(samples.map((s) => s.wallNs));
  if (wall < SHORT_REGION_NS) out.push({ kind: 'short', text: `timed region only ${(wall / 1e6).toFixed(2)} ms` });
  if (xs.length >= 3) {
    const rest = median(xs.slice(1));
    if (xs[0]! > 1.5 * rest) out.push({ kind: 'cold', text: `first repetition ${(xs[0]! / rest).toFixed(1)}× slower than the rest` });
  }
  if (spread > 0) {
    const outliers = xs.filter((x) => (0.6745 * Math.abs(x - m)) / spread > 3.5).length;
    if (outliers > 0) out.push({ kind: 'outliers', text: `${outliers} statistical outlier${outliers === 1 ? '' : 's'} in ${xs.length} repetitions` });
    if (spread / m > 0.05) out.push({ kind: 'spread', text: `high spread (MAD ${((spread / m) * 100).toFixed(0)}% of the median, ${Math.min(...xs).toFixed(2)} … ${Math.max(...xs).toFixed(2)} ns/op)` });
  }
  return out;
}

function compareCells(r: CompareRow, color: boolean): string[] {
  const paint = painter(color);
  const v = r.verdict === 'regression' ? paint.red(r.verdict) : r.verdict === 'improvement' ? paint.green(r.verdict) : r.verdict;
  const verdict = v + (r.note ? paint.dim(` (${r.note})`) : '');
  // Exact metrics: one sample decides; a CI or a p value would only pretend to mean something.
  // A side that never finished says what happened, in red.
  const side = (status: string, text: string): string => (status === 'ok' ? text : paint.red(status));
  if (r.exact) return [r.trace, side(r.baselineStatus, formatValue(r.baselineMedian, r.metric)), side(r.candidateStatus, formatValue(r.candidateMedian, r.metric)), pct(r.deltaPct), verdict];
  return [
    r.trace,
    side(r.baselineStatus, `${spreadOf(r.baselineMedian, r.baselineMad, r.metric)} (n=${r.baselineN})`),
    side(r.candidateStatus, `${spreadOf(r.candidateMedian, r.candidateMad, r.metric)} (n=${r.candidateN})`),
    pct(r.deltaPct),
    Number.isFinite(r.ci[0]) ? `${r.ci[0].toFixed(3)} … ${r.ci[1].toFixed(3)}` : '—',
    pText(r.p),
    verdict,
  ];
}

function compareHead(metric: Metric): string[] {
  if (metric === 'instructions') return ['trace', 'baseline instructions', 'candidate instructions', 'delta', 'verdict'];
  return ['trace', 'baseline ns/op median ± MAD', 'candidate ns/op median ± MAD', 'delta', '95% CI of ratio', 'p', 'verdict'];
}

/** One side's name across the rows: the one label, or how many configurations when the traces differ. */
function sideName(names: string[]): string {
  const set = [...new Set(names)];
  if (set.length === 1) return set[0]!;
  // The header stays one short line: many names are left to the table's rows and --json.
  const all = set.join('; ');
  return all.length <= 40 ? `${set.length} configurations (${all})` : `${set.length} configurations`;
}

/** The one short header line of compare and check: `baseline A  vs  candidate B  (metric, lower is better)`. */
export function compareHeading(rows: readonly CompareRow[]): string {
  return `baseline ${sideName(rows.map((r) => r.baseline))}  vs  candidate ${sideName(rows.map((r) => r.candidate))}  (${rows[0]?.metric ?? 'time'}, lower is better)`;
}

/** The compare report. */
export function renderCompare(rows: CompareRow[], format: TextFormat, opts: RenderOptions = {}): string {
  if (format === 'json') return JSON.stringify(rows, null, 2);
  if (format === 'csv') {
    const head = ['trace', 'metric', 'baseline', 'candidate', 'baseline_hash', 'candidate_hash', 'baseline_status', 'candidate_status', 'baseline_median', 'candidate_median', 'baseline_n', 'candidate_n', 'delta_pct'];
    const exact = rows.every((r) => r.exact);
    const base = (r: CompareRow): (string | number)[] => [r.trace, r.metric, r.baseline, r.candidate, r.baselineHash, r.candidateHash, r.baselineStatus, r.candidateStatus, r.baselineMedian, r.candidateMedian, r.baselineN, r.candidateN, r.deltaPct];
    if (exact) return csv([...head, 'verdict'], rows.map((r) => [...base(r), r.verdict]));
    return csv([...head, 'ci_low', 'ci_high', 'p', 'verdict'], rows.map((r) => [...base(r), r.ci[0], r.ci[1], r.p, r.verdict]));
  }
  const color = format === 'table' && (opts.color ?? stdoutColor());
  const paint = painter(color);
  const first = rows[0];
  if (!first) return '(no traces in common)';
  const heading = compareHeading(rows);
  const head = compareHead(first.metric);
  if (format === 'markdown') return `**${heading}**\n\n${markdownTable(head, rows.map((r) => compareCells(r, false)))}`;
  const summary = rows.map((r) =>
    r.note && !Number.isFinite(r.deltaPct)
      ? `  ${r.trace}: ${r.note}`
      : `  ${r.trace}: candidate is ${ratioText(r.candidateMedian / r.baselineMedian)}${r.exact ? ' (exact)' : ` (95% CI of ratio ${r.ci[0].toFixed(3)} … ${r.ci[1].toFixed(3)})`}`,
  );
  return `${paint.bold(heading)}\n${table(head, rows.map((r) => compareCells(r, color)), { color })}\n${paint.dim(summary.join('\n'))}`;
}

/** The markdown a CI job posts as a comment: the verdict first, the regressions and failed candidates, then the table. */
export function checkSummary(result: CheckResult | CompareRow[], thresholdPct?: number): string {
  const rows = Array.isArray(result) ? result : result.rows;
  const t = Array.isArray(result) ? (thresholdPct ?? 2) : result.thresholdPct;
  const bad = rows.filter((r) => r.verdict === 'regression');
  const failed = rows.filter((r) => r.candidateStatus !== 'ok');
  const better = rows.filter((r) => r.verdict === 'improvement').length;
  const heads = [
    ...(bad.length ? [`${bad.length} regression${bad.length === 1 ? '' : 's'} beyond ${t}%`] : []),
    ...(failed.length ? [`candidate did not finish on ${failed.length} trace${failed.length === 1 ? '' : 's'}`] : []),
  ];
  const head = heads.length ? `### ❌ ${heads.join('; ')}` : `### ✅ no regression beyond ${t}%`;
  const lines = [
    ...bad.map((r) => `- **${r.trace}**: ${pct(r.deltaPct)} (${ratioText(r.candidateMedian / r.baselineMedian)}${r.exact ? ', exact instruction count' : `, 95% CI of ratio ${r.ci[0].toFixed(3)} … ${r.ci[1].toFixed(3)}, p ${pText(r.p)}`})`),
    ...failed.map((r) => `- **${r.trace}**: candidate ${r.candidateStatus}`),
  ];
  const unchanged = rows.length - bad.length - better - failed.length;
  const tail = `${rows.length} trace${rows.length === 1 ? '' : 's'} compared: ${bad.length} regressed, ${better} improved, ${unchanged} unchanged${failed.length ? `, ${failed.length} candidate failures` : ''}.`;
  return `${head}\n\n${lines.length ? `${lines.join('\n')}\n\n` : ''}${renderCompare(rows, 'markdown')}\n\n${tail}\n`;
}

/** What a cell with no figure says (`crashed: SIGSEGV`, `timeout`, …), in red on a terminal. */
function failedCell(c: MatrixCell, format: TextFormat, paint: ReturnType<typeof painter>): string {
  return format === 'markdown' ? `⚠ ${c.status}` : paint.red(c.status);
}

/**
 * The matrix report: configurations down (one row per configuration and
 * machine, never merged by label), traces across, the best of each trace
 * marked ★, cells whose runs all failed saying what happened. csv and json
 * are long (one line per cell) and grouped by trace.
 */
export function renderMatrixCells(cells: MatrixCell[], metric: Metric, format: TextFormat, opts: RenderOptions = {}): string {
  const byTrace = [...cells].sort((a, b) => a.trace.localeCompare(b.trace));
  if (format === 'json') return JSON.stringify(byTrace, null, 2);
  const exact = metric === 'instructions';
  if (format === 'csv') {
    const head = ['trace', 'configuration', 'config_hash', 'machine', 'status', 'median', ...(exact ? [] : ['mad', 'ci_low', 'ci_high']), 'n', 'relative', ...(exact ? [] : ['relative_ci_low', 'relative_ci_high']), 'best', 'cap_fallbacks'];
    return csv(
      head,
      byTrace.map((c) => [c.trace, c.label, c.configHash, c.machine, c.status, c.median, ...(exact ? [] : [c.mad, c.lo, c.hi]), c.n, c.relative, ...(exact ? [] : [c.relativeCi?.[0] ?? null, c.relativeCi?.[1] ?? null]), c.best, c.fallbacks ?? null]),
    );
  }
  const color = format === 'table' && (opts.color ?? stdoutColor());
  const paint = painter(color);
  const traces = [...new Set(byTrace.map((c) => c.trace))];
  // A trace measured under one configuration has nothing to be best among.
  const alone = new Set(traces.filter((t) => cells.filter((c) => c.trace === t && c.status === 'ok').length === 1));
  const rowsOf = new Map<string, { label: string; cells: Map<string, MatrixCell> }>();
  for (const c of cells) {
    const row = rowsOf.get(rowKey(c)) ?? { label: c.label, cells: new Map<string, MatrixCell>() };
    row.cells.set(c.trace, c);
    rowsOf.set(rowKey(c), row);
  }
  const rows = [...rowsOf.values()].map((r) => [
    r.label,
    ...traces.map((t) => {
      const c = r.cells.get(t);
      if (!c) return '—';
      if (c.status !== 'ok') return failedCell(c, format, paint);
      const v = `${spreadOf(c.median, c.mad, metric)}${c.systemShare !== undefined ? ` ${(c.systemShare * 100).toFixed(0)}% of sys` : ''}${c.fallbacks !== undefined ? ` fb=${c.fallbacks}` : ''}`;
      if (c.best) return format === 'markdown' ? `**${v}** ★` : paint.green(`${v} ★`);
      if (alone.has(t)) return v;
      if (c.lowest || (c.relativeCi && c.relativeCi[0] <= 1)) return `${v} ≈best`;
      if (!c.relativeCi) return `${v} ×${c.relative.toFixed(2)}`;
      const [lo, hi] = c.relativeCi;
      // As ratioWithUncertainty: a lopsided CI is shown as it is rather than as a ± reaching below 1.
      return c.relative - (hi - lo) / 2 <= 1 ? `${v} ×${c.relative.toFixed(2)} (${lo.toFixed(2)}…${hi.toFixed(2)})` : `${v} ×${c.relative.toFixed(2)} ± ${((hi - lo) / 2).toFixed(2)}`;
    }),
  ]);
  const notes = [`${exact ? 'instructions (exact)' : 'median ns/op ± MAD'} per trace; ×N relative to the lowest of the column`];
  notes.push(exact ? '★ best: fewer instructions than every other' : '★ best: every other clearly slower (95% CI of the ratio above 1); ≈best: no clear difference from the lowest');
  if (cells.some((c) => c.relativeCi)) notes.push('± half the 95% CI of the ratio (the CI itself when lopsided)');
  if (cells.some((c) => c.systemShare !== undefined)) notes.push("N% of sys = throughput as a share of the system allocator's on that trace");
  if (cells.some((c) => c.fallbacks !== undefined)) notes.push('fb = tinyslab soft-cap fallbacks');
  if (rows.some((r) => r.includes('—'))) notes.push('— not measured');
  for (const u of unclearBests(cells)) notes.push(`${u.trace}: no clear best: the lowest ${u.alike.length + 1} show no clear difference (${exact ? 'equal counts' : `±${u.withinPct.toFixed(1)}%`})`);
  if (rows.length === 0) return '(no runs match)';
  if (format === 'markdown') return `${markdownTable(['configuration', ...traces], rows)}\n\n${notes.map((n) => `_${n}_`).join('  \n')}`;
  return `${table(['configuration', ...traces], rows, { color })}\n${paint.dim(notes.join('\n'))}`;
}

/** `abc1234567 Subject of the commit` (the subject cut at 50 characters). */
export function revisionText(p: { revision: string; subject?: string }): string {
  const subj = p.subject === undefined ? '' : p.subject.length > 50 ? `${p.subject.slice(0, 49)}…` : p.subject;
  return subj ? `${p.revision.slice(0, 10)} ${subj}` : p.revision.slice(0, 10);
}

/**
 * The history report: one block per axis (target and repository), per line
 * a sparkline, then each revision (oldest first, with its subject) and its
 * step against the previous revision.
 */
export function renderHistory(lines: HistoryLine[], metric: Metric, format: TextFormat, opts: RenderOptions = {}): string {
  if (format === 'json') return JSON.stringify(lines, null, 2);
  if (format === 'csv') {
    return csv(
      ['target', 'repo', 'machine', 'line', 'order', 'revision', 'subject', 'configuration', 'config_hashes', 'status', 'median', 'n', 'runs', 'step_delta_pct', 'step_verdict'],
      lines.flatMap((l) => l.points.map((p) => [l.target, l.repo, l.machine, l.name, l.order, p.revision, p.subject ?? null, p.label, p.configHashes.join(' '), p.status, p.median, p.n, p.runs, p.step?.deltaPct ?? null, p.step?.verdict ?? null])),
    );
  }
  const color = format === 'table' && (opts.color ?? stdoutColor());
  const paint = painter(color);
  const parts: string[] = [];
  for (const [axis, group] of historyAxes(lines)) {
    const order = group.every((l) => l.order === 'git') ? 'git order' : group.some((l) => l.order === 'git') ? 'git order where known, else run order' : 'run order (no repository to ask)';
    const title = `${axis}  (${order})`;
    parts.push(format === 'markdown' ? `### ${title}` : paint.bold(paint.yellow(title)));
    for (const l of group) {
      const rows = l.points.map((p) => {
        const v = p.step?.verdict;
        const verdict = !v || v === 'no change' ? (v ?? '') : v === 'regression' ? paint.red(v) : paint.green(v);
        return [revisionText(p), p.status === 'ok' ? formatValue(p.median, metric) : format === 'markdown' ? `⚠ ${p.status}` : paint.red(p.status), String(p.n), p.step ? pct(p.step.deltaPct) : '', verdict];
      });
      // A sparkline spans min…max whatever their distance: a line with no changed step is drawn flat, not as a cliff.
      const okPoints = l.points.filter((p) => p.status === 'ok');
      const changed = l.points.some((p) => p.step && p.step.verdict !== 'no change');
      const drawn = changed ? sparkline(okPoints.map((p) => p.median)) : '▄'.repeat(okPoints.length);
      const spark = `${l.name}  ${drawn}  (${l.points.length} revision${l.points.length === 1 ? '' : 's'}, oldest first${changed ? '' : ', no change'})`;
      const head = ['revision', metric === 'time' ? 'median' : 'instructions', 'n', 'step', 'verdict'];
      parts.push(format === 'markdown' ? `**${spark}**\n\n${markdownTable(head, rows)}` : `${paint.bold(spark)}\n${table(head, rows, { color })}`);
    }
  }
  return parts.join('\n\n') || '(no runs with a revision match the selector)';
}

/**
 * Throughput as a share of the system allocator's on the same trace: 100%
 * is as fast as the C library's malloc, 85% is 15% fewer operations per
 * second. ns/op in, text out; `—` when there is no system figure.
 */
export function systemShareText(nsPerOp: number | undefined, systemNsPerOp: number | undefined): string {
  if (!nsPerOp || !systemNsPerOp || !Number.isFinite(nsPerOp) || !Number.isFinite(systemNsPerOp)) return '—';
  return `${((systemNsPerOp / nsPerOp) * 100).toFixed(0)}%`;
}

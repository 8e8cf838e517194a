/**
 * Text renderings of every report: table (terminal, colour optional),
 * markdown, json and csv. HTML is html.ts.
 */
import type { CheckResult, CompareRow, HistoryPoint, MatrixCell } from '../compare/index.js';
import type { ReportMetric } from '../select/index.js';
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
export function formatValue(v: number, metric: ReportMetric): string {
  if (!Number.isFinite(v)) return '—';
  return metric === 'time' ? `${v.toFixed(2)} ns/op` : `${Math.round(v).toLocaleString('en-US')} Ir`;
}

const spreadOf = (m: number, d: number, metric: ReportMetric): string => (metric === 'time' ? `${m.toFixed(2)} ± ${d.toFixed(2)}` : Math.round(m).toLocaleString('en-US'));
/** `+1.23%`. */
export const pct = (d: number): string => (Number.isFinite(d) ? `${d >= 0 ? '+' : ''}${d.toFixed(2)}%` : '—');
const pText = (p: number): string => (p < 0.001 ? '<0.001' : p.toFixed(3));

/** hyperfine's phrasing: `1.20× slower` / `1.05× faster`. */
export function ratioText(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  return ratio >= 1 ? `${ratio.toFixed(2)}× slower` : `${(1 / ratio).toFixed(2)}× faster`;
}

function compareCells(r: CompareRow, color: boolean): string[] {
  const paint = painter(color);
  const v = r.verdict === 'regression' ? paint.red(r.verdict) : r.verdict === 'improvement' ? paint.green(r.verdict) : r.verdict;
  return [
    r.trace,
    r.metric === 'time' ? `${spreadOf(r.baselineMedian, r.baselineMad, r.metric)} (n=${r.baselineN})` : formatValue(r.baselineMedian, r.metric),
    r.metric === 'time' ? `${spreadOf(r.candidateMedian, r.candidateMad, r.metric)} (n=${r.candidateN})` : formatValue(r.candidateMedian, r.metric),
    pct(r.deltaPct),
    r.exact ? 'exact' : Number.isFinite(r.ci[0]) ? `${r.ci[0].toFixed(3)} … ${r.ci[1].toFixed(3)}` : '—',
    r.exact ? '—' : pText(r.p),
    v + (r.note ? paint.dim(` (${r.note})`) : ''),
  ];
}

function compareHead(metric: ReportMetric): string[] {
  const unit = metric === 'time' ? 'ns/op median ± MAD' : 'instructions';
  return ['trace', `baseline ${unit}`, `candidate ${unit}`, 'delta', '95% CI of ratio', 'p', 'verdict'];
}

/** The compare report. */
export function renderCompare(rows: CompareRow[], format: TextFormat, opts: RenderOptions = {}): string {
  if (format === 'json') return JSON.stringify(rows, null, 2);
  if (format === 'csv') {
    return csv(
      ['trace', 'metric', 'baseline', 'candidate', 'baseline_hash', 'candidate_hash', 'baseline_median', 'candidate_median', 'baseline_n', 'candidate_n', 'delta_pct', 'ci_low', 'ci_high', 'p', 'verdict'],
      rows.map((r) => [r.trace, r.metric, r.baseline, r.candidate, r.baselineHash, r.candidateHash, r.baselineMedian, r.candidateMedian, r.baselineN, r.candidateN, r.deltaPct, r.ci[0], r.ci[1], r.p, r.verdict]),
    );
  }
  const color = format === 'table' && (opts.color ?? stdoutColor());
  const paint = painter(color);
  const first = rows[0];
  if (!first) return '(no traces in common)';
  const heading = `baseline ${first.baseline}  vs  candidate ${first.candidate}  (${first.metric}, lower is better)`;
  const head = compareHead(first.metric);
  if (format === 'markdown') return `**${heading}**\n\n${markdownTable(head, rows.map((r) => compareCells(r, false)))}`;
  const summary = rows.map((r) => `  ${r.trace}: candidate is ${ratioText(r.candidateMedian / r.baselineMedian)}${r.exact ? ' (exact)' : ` (95% CI of ratio ${r.ci[0].toFixed(3)} … ${r.ci[1].toFixed(3)})`}`);
  return `${paint.bold(heading)}\n${table(head, rows.map((r) => compareCells(r, color)), { color })}\n${paint.dim(summary.join('\n'))}`;
}

/** The markdown a CI job posts as a comment: the verdict first, the regressions, then the table. */
export function checkSummary(result: CheckResult | CompareRow[], thresholdPct?: number): string {
  const rows = Array.isArray(result) ? result : result.rows;
  const t = Array.isArray(result) ? (thresholdPct ?? 2) : result.thresholdPct;
  const bad = rows.filter((r) => r.verdict === 'regression');
  const better = rows.filter((r) => r.verdict === 'improvement').length;
  const head = bad.length ? `### ❌ ${bad.length} regression${bad.length === 1 ? '' : 's'} beyond ${t}%` : `### ✅ no regression beyond ${t}%`;
  const lines = bad.map((r) => `- **${r.trace}**: ${pct(r.deltaPct)} (${ratioText(r.candidateMedian / r.baselineMedian)}${r.exact ? ', exact instruction count' : `, 95% CI of ratio ${r.ci[0].toFixed(3)} … ${r.ci[1].toFixed(3)}, p ${pText(r.p)}`})`);
  const tail = `${rows.length} trace${rows.length === 1 ? '' : 's'} compared: ${bad.length} regressed, ${better} improved, ${rows.length - bad.length - better} unchanged.`;
  return `${head}\n\n${lines.length ? `${lines.join('\n')}\n\n` : ''}${renderCompare(rows, 'markdown')}\n\n${tail}\n`;
}

/** The matrix report: configurations down, traces across, the best of each trace marked ★. */
export function renderMatrixCells(cells: MatrixCell[], metric: ReportMetric, format: TextFormat, opts: RenderOptions = {}): string {
  if (format === 'json') return JSON.stringify(cells, null, 2);
  if (format === 'csv') {
    return csv(
      ['trace', 'configuration', 'config_hash', 'machine', 'median', 'mad', 'ci_low', 'ci_high', 'n', 'relative', 'best', 'cap_fallbacks'],
      cells.map((c) => [c.trace, c.label, c.configHash, c.machine, c.median, c.mad, c.lo, c.hi, c.n, c.relative, c.best, c.fallbacks ?? null]),
    );
  }
  const color = format === 'table' && (opts.color ?? stdoutColor());
  const paint = painter(color);
  const traces = [...new Set(cells.map((c) => c.trace))].sort();
  const labels = [...new Set(cells.map((c) => c.label))];
  const rows = labels.map((l) => [
    l,
    ...traces.map((t) => {
      const c = cells.find((x) => x.trace === t && x.label === l);
      if (!c) return '';
      const v = `${spreadOf(c.median, c.mad, metric)}${c.fallbacks !== undefined ? ` fb=${c.fallbacks}` : ''}`;
      if (c.best) return format === 'markdown' ? `**${v}** ★` : paint.green(`${v} ★`);
      return `${v} ×${c.relative.toFixed(2)}`;
    }),
  ]);
  const note = `${metric === 'time' ? 'median ns/op ± MAD' : 'instructions'} per trace; ★ best of the column, ×N relative to it${cells.some((c) => c.fallbacks !== undefined) ? '; fb = tinyslab soft-cap fallbacks' : ''}`;
  if (rows.length === 0) return '(no runs match)';
  if (format === 'markdown') return `${markdownTable(['configuration', ...traces], rows)}\n\n_${note}_`;
  return `${table(['configuration', ...traces], rows, { color })}\n${paint.dim(note)}`;
}

/** The history report: per line a sparkline, then each revision with its step against the previous one. */
export function renderHistory(h: Map<string, HistoryPoint[]>, metric: ReportMetric, format: TextFormat, opts: RenderOptions = {}): string {
  const flat = [...h.entries()].flatMap(([line, pts]) => pts.map((p) => ({ line, ...p })));
  if (format === 'json') return JSON.stringify(flat, null, 2);
  if (format === 'csv') {
    return csv(
      ['line', 'revision', 'configuration', 'config_hash', 'median', 'n', 'step_delta_pct', 'step_verdict'],
      flat.map((p) => [p.line, p.revision, p.label, p.configHash, p.median, p.n, p.step?.deltaPct ?? null, p.step?.verdict ?? null]),
    );
  }
  const color = format === 'table' && (opts.color ?? stdoutColor());
  const paint = painter(color);
  const parts: string[] = [];
  for (const [line, pts] of h) {
    const rows = pts.map((p) => {
      const v = p.step?.verdict;
      const verdict = !v || v === 'no change' ? (v ?? '') : v === 'regression' ? paint.red(v) : paint.green(v);
      return [p.revision.slice(0, 10), formatValue(p.median, metric), String(p.n), p.step ? pct(p.step.deltaPct) : '', verdict];
    });
    const spark = `${line}  ${sparkline(pts.map((p) => p.median))}  (${pts.length} revision${pts.length === 1 ? '' : 's'}, oldest first)`;
    const head = ['revision', 'median', 'n', 'step', 'verdict'];
    parts.push(format === 'markdown' ? `**${spark}**\n\n${markdownTable(head, rows)}` : `${paint.bold(spark)}\n${table(head, rows, { color })}`);
  }
  return parts.join('\n\n') || '(no runs with a revision match the selector)';
}

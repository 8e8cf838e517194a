import type { CompareRow, HistoryPoint, MatrixCell, ReportMetric } from '../compare/index.js';
import { bootstrapMedianCI } from '../stats/index.js';
import type { Store } from '../store/index.js';
import { barsWithCI, historyLine, liveVsRss, svgOf } from './charts.js';
import { sparkline } from '../../traces/index.js';
import { bold, csv, dim, green, markdownTable, red, table } from './text.js';

export * from './text.js';
export { svgOf } from './charts.js';

export type ReportFormat = 'table' | 'markdown' | 'json' | 'csv' | 'html';

const fmtValue = (v: number, metric: ReportMetric): string => (metric === 'time' ? `${v.toFixed(2)} ns/op` : Math.round(v).toLocaleString('en-US'));
const pct = (d: number): string => `${d >= 0 ? '+' : ''}${d.toFixed(2)}%`;

function verdictCell(v: string, color: boolean): string {
  if (!color) return v;
  return v === 'regression' ? red(v) : v === 'improvement' ? green(v) : v;
}

function compareCells(r: CompareRow, color: boolean): string[] {
  return [
    r.trace,
    fmtValue(r.baselineMedian, r.metric),
    fmtValue(r.candidateMedian, r.metric),
    pct(r.deltaPct),
    r.exact ? 'exact' : `[${r.ci[0].toFixed(3)}, ${r.ci[1].toFixed(3)}]`,
    r.exact ? '—' : r.p < 0.001 ? '<0.001' : r.p.toFixed(3),
    verdictCell(r.verdict, color),
  ];
}

const COMPARE_HEAD = ['trace', 'baseline', 'candidate', 'delta', '95% CI of ratio', 'p', 'verdict'];

export function renderCompare(rows: CompareRow[], format: Exclude<ReportFormat, 'html'>): string {
  if (format === 'json') return JSON.stringify(rows, null, 2);
  if (format === 'csv') return csv(['trace', 'metric', 'baseline', 'candidate', 'baseline_median', 'candidate_median', 'delta_pct', 'ci_low', 'ci_high', 'p', 'verdict'], rows.map((r) => [r.trace, r.metric, r.baseline, r.candidate, r.baselineMedian, r.candidateMedian, r.deltaPct, r.ci[0], r.ci[1], r.p, r.verdict]));
  const first = rows[0]!;
  const heading = `baseline ${first.baseline}  vs  candidate ${first.candidate}  (${first.metric})`;
  if (format === 'markdown') return `**${heading}**\n\n${markdownTable(COMPARE_HEAD, rows.map((r) => compareCells(r, false)))}`;
  return `${bold(heading)}\n${table(COMPARE_HEAD, rows.map((r) => compareCells(r, true)))}`;
}

/** The markdown a CI job posts as a comment: the verdict first. */
export function checkSummary(rows: CompareRow[], thresholdPct: number): string {
  const bad = rows.filter((r) => r.verdict === 'regression');
  const head = bad.length
    ? `### ❌ ${bad.length} regression${bad.length === 1 ? '' : 's'} beyond ${thresholdPct}%`
    : `### ✅ no regression beyond ${thresholdPct}%`;
  return `${head}\n\n${renderCompare(rows, 'markdown')}\n`;
}

export function renderMatrixCells(cells: MatrixCell[], metric: ReportMetric, format: Exclude<ReportFormat, 'html'>): string {
  if (format === 'json') return JSON.stringify(cells, null, 2);
  if (format === 'csv') return csv(['trace', 'configuration', 'config_hash', 'median', 'n', 'best', 'cap_fallbacks'], cells.map((c) => [c.trace, c.label, c.configHash, c.median, c.n, c.best ? 1 : 0, c.fallbacks ?? null]));
  const traces = [...new Set(cells.map((c) => c.trace))];
  const labels = [...new Set(cells.map((c) => c.label))];
  const rows = labels.map((l) => [
    l,
    ...traces.map((t) => {
      const c = cells.find((x) => x.trace === t && x.label === l);
      if (!c) return '';
      const v = fmtValue(c.median, metric) + (c.fallbacks !== undefined ? ` fb=${c.fallbacks}` : '');
      return c.best ? (format === 'markdown' ? `**${v}** ★` : green(`${v} ★`)) : v;
    }),
  ]);
  return format === 'markdown' ? markdownTable(['configuration', ...traces], rows) : table(['configuration', ...traces], rows);
}

export function renderHistory(h: Map<string, HistoryPoint[]>, metric: ReportMetric, format: Exclude<ReportFormat, 'html'>): string {
  const flat = [...h.entries()].flatMap(([trace, pts]) => pts.map((p) => ({ trace, ...p })));
  if (format === 'json') return JSON.stringify(flat, null, 2);
  if (format === 'csv') return csv(['trace', 'revision', 'configuration', 'median', 'n'], flat.map((p) => [p.trace, p.revision, p.label, p.median, p.n]));
  const parts: string[] = [];
  for (const [trace, pts] of h) {
    const rows = pts.map((p, i) => [p.revision.slice(0, 10), fmtValue(p.median, metric), i === 0 ? '' : pct(((p.median - pts[i - 1]!.median) / pts[i - 1]!.median) * 100)]);
    const line = `${trace}  ${sparkline(pts.map((p) => p.median))}`;
    parts.push(format === 'markdown' ? `**${line}**\n\n${markdownTable(['revision', 'median', 'step'], rows)}` : `${bold(line)}\n${table(['revision', 'median', 'step'], rows)}`);
  }
  return parts.join('\n\n') || dim('(no runs with revisions match)');
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function htmlTable(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export interface HtmlInput {
  title: string;
  metric: ReportMetric;
  store: Store;
  matrix: MatrixCell[];
  compare?: CompareRow[];
  history?: Map<string, HistoryPoint[]>;
}

/**
 * One self-contained HTML page: tables and inline SVG charts rendered here
 * (bars with CI whiskers per configuration, live bytes vs RSS per trace, a
 * history line). No script, no network.
 */
export async function renderHtml(input: HtmlInput): Promise<string> {
  const { metric, store } = input;
  const unit = metric === 'time' ? 'ns/op' : 'instructions';
  const sections: string[] = [];
  if (input.compare) {
    sections.push(`<h2>Comparison</h2>${htmlTable(COMPARE_HEAD, input.compare.map((r) => compareCells(r, false)))}`);
  }
  // Bars: every configuration's median with a bootstrap 95% CI of the median.
  const runs = store.runs();
  const bars = input.matrix.map((c) => {
    const values = runs.filter((r) => r.configHash === c.configHash && r.trace === c.trace && r.metric === metric && r.status === 'ok').flatMap((r) => store.samples(r.id).map((s) => (metric === 'time' ? s.nsPerOp : (s.instructions ?? 0))));
    const [lo, hi] = bootstrapMedianCI(values);
    return { trace: c.trace, configuration: c.label, median: c.median, lo, hi };
  });
  if (bars.length) {
    sections.push(`<h2>Configurations</h2>${htmlTable(['trace', 'configuration', unit, 'n', 'best'], input.matrix.map((c) => [c.trace, c.label, fmtValue(c.median, metric), String(c.n), c.best ? '★' : '']))}<figure class="chart" data-chart="bars">${await svgOf(barsWithCI(bars, unit))}</figure>`);
  }
  // Live bytes vs RSS: the newest run with a series, per trace.
  const seriesCharts: string[] = [];
  for (const trace of new Set(input.matrix.map((c) => c.trace))) {
    const run = runs.find((r) => r.trace === trace && r.series && r.series.length > 1);
    if (!run) continue;
    const data = run.series!.flatMap((p) => [
      { op: p.op, value: p.liveBytes / 1024, what: 'live bytes (trace)' },
      { op: p.op, value: p.rssKiB, what: `RSS growth (${run.label})` },
    ]);
    seriesCharts.push(`<figure class="chart" data-chart="series">${await svgOf(liveVsRss(trace, data))}</figure>`);
  }
  if (seriesCharts.length) sections.push(`<h2>Live bytes vs RSS over the replay</h2>${seriesCharts.join('')}`);
  if (input.history && input.history.size) {
    const data = [...input.history.entries()].flatMap(([trace, pts]) => pts.map((p, step) => ({ trace, step, revision: p.revision.slice(0, 10), value: p.median })));
    sections.push(`<h2>History</h2><figure class="chart" data-chart="history">${await svgOf(historyLine(data, unit))}</figure>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure.chart{margin:1em 0}</style>
</head><body><h1>${esc(input.title)}</h1>
<p>Generated by allocreplay from ${esc(store.path)} (${esc(unit)}; lower is better).</p>
${sections.join('\n')}
</body></html>
`;
}

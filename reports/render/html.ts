/**
 * The self-contained HTML report: tables and inline SVG charts rendered in
 * Node. No script, no stylesheet or font from elsewhere: the file opens
 * offline and prints.
 */
import type { CompareRow, HistoryPoint, MatrixCell, SeriesReport } from '../compare/index.js';
import type { ReportMetric } from '../select/index.js';
import { barsWithCI, compareRatios, historyLine, liveVsRss, svgOf } from './charts.js';
import { formatValue, pct, ratioText } from './tables.js';

/** What goes on the page; every section is optional. */
export interface HtmlInput {
  title: string;
  metric: ReportMetric;
  /** Where the data came from (the database path), printed under the title. */
  source?: string;
  matrix?: MatrixCell[];
  compare?: CompareRow[];
  /** Percent, for the comparison's band (default 2). */
  thresholdPct?: number;
  series?: SeriesReport[];
  history?: Map<string, HistoryPoint[]>;
}

/** HTML-escapes text for element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function htmlTable(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const figure = (kind: string, svg: string, caption: string): string => `<figure class="chart" data-chart="${kind}">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;

async function compareSection(rows: CompareRow[], metric: ReportMetric, t: number): Promise<string> {
  const bad = rows.filter((r) => r.verdict === 'regression').length;
  const headline = bad ? `❌ ${bad} regression${bad === 1 ? '' : 's'} beyond ${t}%` : `✅ no regression beyond ${t}%`;
  const table = htmlTable(
    ['trace', 'baseline', 'candidate', 'delta', 'ratio', '95% CI of ratio', 'p', 'verdict'],
    rows.map((r) => [r.trace, formatValue(r.baselineMedian, metric), formatValue(r.candidateMedian, metric), pct(r.deltaPct), ratioText(r.candidateMedian / r.baselineMedian), r.exact ? 'exact' : `${r.ci[0].toFixed(3)} … ${r.ci[1].toFixed(3)}`, r.exact ? '—' : r.p < 0.001 ? '<0.001' : r.p.toFixed(3), r.verdict]),
  );
  const chart = await svgOf(compareRatios(rows.map((r) => ({ trace: r.trace, ratio: r.candidateMedian / r.baselineMedian, lo: r.ci[0], hi: r.ci[1], verdict: r.verdict })), t));
  return `<section id="compare"><h2>Comparison</h2><p class="verdict ${bad ? 'bad' : 'good'}">${escapeHtml(headline)}</p>
<p>baseline <code>${escapeHtml(rows[0]!.baseline)}</code> vs candidate <code>${escapeHtml(rows[0]!.candidate)}</code></p>
${table}
${figure('compare', chart, `candidate ÷ baseline per trace with its 95% CI; grey band: ±${t}%`)}</section>`;
}

async function matrixSection(cells: MatrixCell[], metric: ReportMetric, unit: string): Promise<string> {
  const table = htmlTable(
    ['trace', 'configuration', `median ${unit}`, 'MAD', '95% CI of median', 'n', 'relative'],
    cells.map((c) => [c.trace, c.label, formatValue(c.median, metric), metric === 'time' ? c.mad.toFixed(2) : Math.round(c.mad).toLocaleString('en-US'), `${c.lo.toPrecision(4)} … ${c.hi.toPrecision(4)}`, String(c.n), c.best ? '★ best' : `×${c.relative.toFixed(2)}`]),
  );
  const chart = await svgOf(barsWithCI(cells.map((c) => ({ trace: c.trace, configuration: c.label, median: c.median, lo: c.lo, hi: c.hi, best: c.best })), unit));
  return `<section id="matrix"><h2>Configurations</h2>${table}
${figure('bars', chart, 'median per configuration with the bootstrap 95% CI of the median; green: best of its trace')}</section>`;
}

async function seriesSection(series: SeriesReport[]): Promise<string> {
  const charts: string[] = [];
  for (const s of series) {
    const data = [...s.live.map((p) => ({ op: p.op, value: p.kib, what: 'live bytes (trace)' })), ...s.rss.flatMap((r) => r.points.map((p) => ({ op: p.op, value: p.kib, what: `RSS growth: ${r.label}` })))];
    charts.push(figure('series', await svgOf(liveVsRss(s.trace, data)), `${s.trace}: bytes the trace holds live vs RSS growth of the replay process, KiB`));
  }
  return `<section id="series"><h2>Live bytes vs RSS over the replay</h2>${charts.join('\n')}</section>`;
}

async function historySection(history: Map<string, HistoryPoint[]>, metric: ReportMetric, unit: string): Promise<string> {
  // One x axis for every line: revisions numbered in order of first appearance.
  const step = new Map<string, number>();
  for (const pts of history.values()) for (const p of pts) if (!step.has(p.revision)) step.set(p.revision, step.size);
  const data = [...history.entries()].flatMap(([line, pts]) => pts.map((p) => ({ line, step: step.get(p.revision)!, revision: p.revision.slice(0, 10), value: p.median })));
  const rows = [...history.entries()].flatMap(([line, pts]) => pts.map((p) => [line, p.revision.slice(0, 10), formatValue(p.median, metric), String(p.n), p.step ? pct(p.step.deltaPct) : '', p.step?.verdict ?? '']));
  return `<section id="history"><h2>History</h2>${figure('history', await svgOf(historyLine(data, unit)), `median ${unit} per revision, oldest first`)}${htmlTable(['line', 'revision', 'median', 'n', 'step', 'verdict'], rows)}</section>`;
}

/**
 * Renders the page: comparison (verdict, table, ratio chart), configurations
 * (table, bars with CI whiskers), live bytes vs RSS per trace, history
 * (line and table).
 */
export async function renderHtml(input: HtmlInput): Promise<string> {
  const { metric } = input;
  const unit = metric === 'time' ? 'ns/op' : 'instructions';
  const sections: string[] = [];
  if (input.compare?.length) sections.push(await compareSection(input.compare, metric, input.thresholdPct ?? 2));
  if (input.matrix?.length) sections.push(await matrixSection(input.matrix, metric, unit));
  if (input.series?.length) sections.push(await seriesSection(input.series));
  if (input.history?.size) sections.push(await historySection(input.history, metric, unit));
  if (sections.length === 0) sections.push('<p>No runs match.</p>');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(input.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:980px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-variant-numeric:tabular-nums}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}th{background:#f4f4f4}
figure.chart{margin:1em 0}figure.chart svg{max-width:100%;height:auto}figcaption{color:#666;font-size:.9em}
.verdict{font-weight:bold;font-size:1.1em}.verdict.bad{color:#b00}.verdict.good{color:#070}code{background:#f4f4f4;padding:0 .3em}
</style>
</head><body><h1>${escapeHtml(input.title)}</h1>
<p>Generated by allocreplay${input.source ? ` from <code>${escapeHtml(input.source)}</code>` : ''}: ${escapeHtml(unit)}, lower is better.</p>
${sections.join('\n')}
</body></html>
`;
}

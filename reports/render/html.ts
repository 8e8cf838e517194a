/**
 * The self-contained HTML report: tables and inline SVG charts rendered in
 * Node. No script, no stylesheet or font from elsewhere: the file opens
 * offline and prints.
 */
import type { Metric } from '../../traces/index.js';
import { type BisectionRow, type CompareRow, type HistoryLine, historyAxes, type MatrixCell, type SeriesReport } from '../compare/index.js';
import { axisScale, barsWithCI, compareRatios, historyLine, liveVsRss, svgOf } from './charts.js';
import { compareHeading, formatValue, pct, ratioText, revisionText } from './tables.js';
import type { SweepReport } from '../compare/sweep.js';
import { sweepChart } from './sweep.js';
import type { FidelityGroup } from '../compare/fidelity.js';
import { fidelityChart, fidelityVerdict, signedDuration } from './fidelity.js';

/** What goes on the page; every section is optional. */
export interface HtmlInput {
  title: string;
  metric: Metric;
  /** Where the data came from (the database path), printed under the title. */
  source?: string;
  matrix?: MatrixCell[];
  compare?: CompareRow[];
  /** Percent, for the comparison's band (default 2). */
  thresholdPct?: number;
  series?: SeriesReport[];
  history?: HistoryLine[];
  bisections?: BisectionRow[];
  /** Flag sweeps: a line chart and a table each. */
  sweeps?: SweepReport[];
  /** Replays beside the live runs of their programs: a chart and a table per recording × replay mode. */
  fidelity?: FidelityGroup[];
  /** The same views for the database's other metrics (the page shows every metric it holds). */
  more?: MetricViews[];
  /** Said on the page when no section has anything: what the database holds and how to select it. */
  empty?: string;
}

/** The per-metric views of the page. */
export interface MetricViews {
  metric: Metric;
  matrix?: MatrixCell[];
  series?: SeriesReport[];
  history?: HistoryLine[];
}

/** RSS lines per live-bytes chart (more would repeat the palette's colours), and charts per trace. */
const SERIES_PER_CHART = 8;
const SERIES_CHARTS_PER_TRACE = 6;

/** HTML-escapes text for element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A table; a row may carry a class (`failed` rows are tinted). */
function htmlTable(head: string[], rows: (string[] | { cells: string[]; cls: string })[]): string {
  const tr = (r: string[] | { cells: string[]; cls: string }): string => {
    const cells = Array.isArray(r) ? r : r.cells;
    return `<tr${Array.isArray(r) ? '' : ` class="${r.cls}"`}>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  };
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map(tr).join('')}</tbody></table>`;
}

const figure = (kind: string, svg: string, caption: string, attrs: Record<string, string> = {}): string =>
  `<figure class="chart" data-chart="${kind}"${Object.entries(attrs)
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('')}>${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;

// Drawn marks, not emoji: emoji glyphs show as empty boxes where no emoji font is installed.
const mark = (color: string, path: string, label: string): string =>
  `<svg class="mark" width="16" height="16" viewBox="0 0 16 16" role="img" aria-label="${label}"><circle cx="8" cy="8" r="7.5" fill="${color}"/><path d="${path}" stroke="#fff" stroke-width="2.2" fill="none" stroke-linecap="round"/></svg>`;
const CROSS = mark('#b00', 'M5 5L11 11M11 5L5 11', 'regression');
const CHECK = mark('#070', 'M4.5 8.5L7 11L11.5 5.5', 'no regression');

const pText = (p: number): string => (p < 0.001 ? '<0.001' : p.toFixed(3));

async function compareSection(rows: CompareRow[], metric: Metric, t: number): Promise<string> {
  const bad = rows.filter((r) => r.verdict === 'regression').length;
  const exact = rows.every((r) => r.exact);
  const failed = rows.filter((r) => r.candidateStatus !== 'ok').length;
  const heads = [...(bad ? [`${bad} regression${bad === 1 ? '' : 's'} beyond ${t}%`] : []), ...(failed ? [`candidate did not finish on ${failed} trace${failed === 1 ? '' : 's'}`] : [])];
  const headline = heads.length ? heads.join('; ') : `no regression beyond ${t}%`;
  const head = ['trace', 'baseline', 'candidate', 'delta', 'ratio', ...(exact ? [] : ['95% CI of ratio', 'p']), 'verdict'];
  const table = htmlTable(
    head,
    rows.map((r) => [r.trace, r.baselineStatus === 'ok' ? formatValue(r.baselineMedian, metric) : r.baselineStatus, r.candidateStatus === 'ok' ? formatValue(r.candidateMedian, metric) : r.candidateStatus, pct(r.deltaPct), ratioText(r.candidateMedian / r.baselineMedian), ...(exact ? [] : [Number.isFinite(r.ci[0]) ? `${r.ci[0].toFixed(3)} … ${r.ci[1].toFixed(3)}` : '—', Number.isFinite(r.deltaPct) ? pText(r.p) : '—']), Number.isFinite(r.deltaPct) ? r.verdict : (r.note ?? r.verdict)]),
  );
  const chart = await svgOf(compareRatios(rows.filter((r) => Number.isFinite(r.deltaPct)).map((r) => ({ trace: r.trace, ratio: r.candidateMedian / r.baselineMedian, lo: r.ci[0], hi: r.ci[1], verdict: r.verdict })), t, { exact }));
  return `<section id="compare"><h2>Comparison</h2><p class="verdict ${heads.length ? 'bad' : 'good'}">${heads.length ? CROSS : CHECK} ${escapeHtml(headline)}</p>
<p>${escapeHtml(compareHeading(rows))}</p>
${table}
${figure('compare', chart, exact ? `candidate ÷ baseline per trace (exact instruction counts); grey band: ±${t}%` : `candidate ÷ baseline per trace with its 95% CI; grey band: ±${t}%`)}</section>`;
}

/** Per trace: a table of every configuration (failed ones say what happened) and a chart of those with a figure. */
async function matrixSection(cells: MatrixCell[], metric: Metric, unit: string, suffix = '', id = ''): Promise<string> {
  const exact = metric === 'instructions';
  const parts: string[] = [];
  for (const trace of [...new Set(cells.map((c) => c.trace))].sort()) {
    const mine = cells.filter((c) => c.trace === trace);
    const ok = mine.filter((c) => c.status === 'ok');
    const head = exact ? ['configuration', `${unit}`, 'n', 'relative'] : ['configuration', `median ${unit}`, 'MAD', '95% CI of median', 'n', 'relative'];
    const rows = mine.map((c) => {
      if (c.status !== 'ok') return { cells: [c.label, c.status, ...(exact ? [] : ['', '']), '0', ''], cls: 'failed' };
      const rel = c.best ? '★ best' : c.lowest ? (ok.length > 1 ? 'lowest, no clear best' : '') : c.relativeCi && c.relativeCi[0] <= 1 ? `×${c.relative.toFixed(2)}, no clear difference` : `×${c.relative.toFixed(2)}`;
      return exact ? [c.label, formatValue(c.median, metric), String(c.n), rel] : [c.label, formatValue(c.median, metric), c.mad.toFixed(2), `${c.lo.toPrecision(4)} … ${c.hi.toPrecision(4)}`, String(c.n), rel];
    });
    let chart = '';
    if (ok.length) {
      const scale = axisScale(ok.flatMap((c) => (exact ? [c.median] : [c.median, c.lo, c.hi])));
      const svg = await svgOf(barsWithCI(ok.map((c) => ({ configuration: c.label, median: c.median, lo: c.lo, hi: c.hi, best: c.best })), unit, { exact, scale }));
      const failed = mine.filter((c) => c.status !== 'ok');
      const caption = `${trace}: median per configuration${exact ? ' (exact instruction counts)' : ' with the bootstrap 95% CI of the median'}; green: best (every other clearly slower)${failed.length ? `; not drawn: ${failed.map((c) => `${c.label} (${c.status})`).join(', ')}` : ''}`;
      chart = figure('bars', svg, caption, { trace, scale });
    }
    parts.push(`<h3>${escapeHtml(trace)}</h3>${htmlTable(head, rows)}\n${chart}`);
  }
  return `<section id="matrix${id}"><h2>Configurations${suffix}</h2>${parts.join('\n')}</section>`;
}

/** Every configuration's RSS, at most SERIES_PER_CHART per chart; past SERIES_CHARTS_PER_TRACE charts, a visible "N more". */
async function seriesSection(series: SeriesReport[], suffix = '', id = ''): Promise<string> {
  const parts: string[] = [];
  for (const s of series) {
    const shown = s.rss.slice(0, SERIES_PER_CHART * SERIES_CHARTS_PER_TRACE);
    const charts = Math.ceil(shown.length / SERIES_PER_CHART);
    for (let i = 0; i < charts; i++) {
      const chunk = shown.slice(i * SERIES_PER_CHART, (i + 1) * SERIES_PER_CHART);
      const data = [...s.live.map((p) => ({ op: p.op, value: p.kib, what: 'live bytes (trace)' })), ...chunk.flatMap((r) => r.points.map((p) => ({ op: p.op, value: p.kib, what: `RSS growth: ${r.label}` })))];
      const scale = axisScale(data.map((d) => d.value));
      const title = charts > 1 ? `${s.trace} (${i + 1}/${charts})` : s.trace;
      parts.push(figure('series', await svgOf(liveVsRss(title, data, scale)), `${s.trace}: bytes the trace holds live vs RSS growth of the replay process, KiB; ${chunk.length} configuration${chunk.length === 1 ? '' : 's'}`, { trace: s.trace, scale, configurations: String(chunk.length) }));
    }
    const more = s.rss.length - shown.length;
    const note = (cls: string, n: number, text: string): string => `<p class="${cls}" data-trace="${escapeHtml(s.trace)}" data-count="${n}">${escapeHtml(text)}</p>`;
    if (more > 0) parts.push(note('more', more, `${s.trace}: ${more} more configuration${more === 1 ? '' : 's'} not drawn: ${s.rss.slice(shown.length).map((r) => r.label).join(', ')}`));
    if (s.missing.length) parts.push(note('no-series', s.missing.length, `${s.trace}: no RSS series recorded for ${s.missing.map((r) => r.label).join(', ')}`));
  }
  return `<section id="series${id}"><h2>Live bytes vs RSS over the replay${suffix}</h2>${parts.join('\n')}</section>`;
}

/** One chart and table per (target, repository): revisions never share an axis with another repository's. */
async function historySection(lines: HistoryLine[], metric: Metric, unit: string, suffix = '', id = ''): Promise<string> {
  const parts: string[] = [];
  for (const [axis, group] of historyAxes(lines)) {
    // The axis: every revision of the group, by git position (all lines of an axis share one repository), else first run.
    const revs = new Map<string, { position: number; created: string }>();
    for (const l of group) for (const p of l.points) if (!revs.has(p.revision)) revs.set(p.revision, { position: p.position ?? Infinity, created: p.created });
    const sorted = [...revs.entries()].sort(([, a], [, b]) => a.position - b.position || a.created.localeCompare(b.created));
    const pos = new Map(sorted.map(([rev], i) => [rev, i]));
    const ordered = group.every((l) => l.order === 'git');
    const data = group.flatMap((l) => l.points.filter((p) => p.status === 'ok').map((p) => ({ line: l.name, step: pos.get(p.revision)!, revision: revisionText(p), value: p.median })));
    const scale = axisScale(data.map((d) => d.value));
    const rows = group.flatMap((l) =>
      l.points.map((p) => {
        const cells = [l.name, revisionText(p), p.status === 'ok' ? formatValue(p.median, metric) : p.status, String(p.n), String(p.runs), p.step ? pct(p.step.deltaPct) : '', p.step?.verdict ?? ''];
        return p.status === 'ok' ? cells : { cells, cls: 'failed' };
      }),
    );
    const order = ordered ? 'git order' : 'run order where git could not tell';
    parts.push(
      `<h3>${escapeHtml(axis)}</h3>${figure('history', await svgOf(historyLine(data, unit, scale)), `${axis}: median ${unit} per revision, oldest first (${order}); runs of one revision pooled`, { axis, scale })}${htmlTable(['line', 'revision', 'median', 'n', 'runs', 'step', 'verdict'], rows)}`,
    );
  }
  return `<section id="history${id}"><h2>History${suffix}</h2>${parts.join('\n')}</section>`;
}

/** What a stored bisection concluded, in one line. */
function bisectionAnswer(b: BisectionRow): string {
  const r = b.result;
  if (!r) return `${b.status}: run the same bisect command again to resume`;
  const fb = r.firstBadCommit as { commit?: string; subject?: string; deltaPct?: number } | undefined;
  if (fb?.commit) return `first bad commit ${fb.commit.slice(0, 10)} ${fb.subject ?? ''}${typeof fb.deltaPct === 'number' ? ` (${pct(fb.deltaPct)})` : ''}`.trim();
  const culprits = r.culprits as Record<string, string> | undefined;
  if (culprits && Object.keys(culprits).length) return `flag changes that reproduce it: ${Object.entries(culprits).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  if (typeof r.firstBad === 'string') return `first bad ${r.firstBad}`;
  return b.status;
}

/** Every stored bisection with each of its steps. */
function bisectionSection(list: BisectionRow[]): string {
  const parts = list.map((b) => {
    const spec = b.spec;
    const range = typeof spec.good === 'string' || typeof spec.bad === 'string' ? ` ${String(spec.good ?? '?').slice(0, 10)}..${String(spec.bad ?? '?').slice(0, 10)}` : '';
    const title = `#${b.id} ${b.kind}${range}${typeof spec.metric === 'string' ? `, ${spec.metric}` : ''}`;
    const rows = b.steps.map((s) => [String(s.step), b.kind === 'commits' ? (s.subject !== undefined ? `${s.probe.slice(0, 10)} ${s.subject}` : s.probe.slice(0, 10)) : s.probe, s.value === null ? 'no value (build failed)' : s.value.toLocaleString('en-US', { maximumFractionDigits: 2 }), s.verdict]);
    return `<div class="bisection" data-bisection="${b.id}"><h3>${escapeHtml(title)}</h3><p>${escapeHtml(bisectionAnswer(b))}</p>${htmlTable(['step', 'probe', 'value', 'verdict'], rows)}</div>`;
  });
  return `<section id="bisections"><h2>Bisections</h2>${parts.join('\n')}</section>`;
}

/** Per swept flag: the metric over the flag's values, a line per trace, and the points as a table. */
async function sweepSection(sweeps: SweepReport[]): Promise<string> {
  const parts = await Promise.all(
    sweeps.map(async (r) => {
      // ★ only for a best every other value of the line is clearly slower than (the matrix's rule).
      const mark = (l: SweepReport['lines'][number], p: SweepReport['lines'][number]['points'][number]): string => (p.best ? '★ best' : p.lowest && l.unclearPct !== undefined ? `lowest, no clear difference (±${l.unclearPct.toFixed(1)}%)` : '');
      const rows = r.lines.flatMap((l) => l.points.map((p) => [l.line, p.value, formatValue(p.median, r.metric), String(p.n), p.fallbacks !== undefined ? String(p.fallbacks) : '—', mark(l, p)]));
      return `<h3>${escapeHtml(r.flag)}</h3>${figure('sweep', await svgOf(sweepChart(r)), `median ${r.metric === 'time' ? 'ns/op' : 'instructions'} against ${r.flag}, one line per trace`, { flag: r.flag })}${htmlTable(['line', r.flag, 'median', 'n', 'cap fallbacks', ''], rows)}`;
    }),
  );
  return `<section id="sweeps"><h2>Sweeps</h2>${parts.join('\n')}</section>`;
}

/** Per recording × replay mode: live Δ beside replay Δ (chart and table) and the verdict on both goals. */
async function fidelitySection(groups: FidelityGroup[]): Promise<string> {
  const parts = await Promise.all(
    groups.map(async (g) => {
      const rows = g.targets.map((t) => [t.target, signedDuration(t.liveDeltaNs), `${signedDuration(t.liveCi[0])} … ${signedDuration(t.liveCi[1])}`, signedDuration(t.replayDeltaNs), `${signedDuration(t.replayCi[0])} … ${signedDuration(t.replayCi[1])}`, t.liveClear && t.share !== null ? t.share.toFixed(2) : 'no clear live Δ']);
      const chart = figure('fidelity', await svgOf(fidelityChart(g)), `${g.recording}: live Δ (the program) beside replay Δ (${g.mode}) against ${g.baseline}`, { recording: g.recording, mode: g.mode });
      return `<h3>${escapeHtml(`${g.recording} — ${g.program}`)}</h3><p>replay ${escapeHtml(g.mode)}: ${escapeHtml(fidelityVerdict(g))}</p>${chart}${htmlTable(['target', 'live Δ', '95% CI', 'replay Δ', '95% CI', 'share'], rows)}`;
    }),
  );
  return `<section id="fidelity"><h2>Fidelity: replays against the live program</h2>${parts.join('\n')}</section>`;
}

/**
 * Renders the page: comparison (verdict, table, ratio chart), configurations
 * per trace (table, bars with CI whiskers), live bytes vs RSS per trace,
 * history per (target, repository), bisections with their steps.
 */
export async function renderHtml(input: HtmlInput): Promise<string> {
  const { metric } = input;
  const unitOf = (m: Metric): string => (m === 'time' ? 'ns/op' : 'instructions');
  const unit = [metric, ...(input.more ?? []).map((v) => v.metric)].map(unitOf).join(' and ');
  const sections: string[] = [];
  if (input.compare?.length) sections.push(await compareSection(input.compare, metric, input.thresholdPct ?? 2));
  // Several metrics: each block's title names its metric.
  const suffixOf = (m: Metric): string => (input.more?.length ? ` (${m})` : '');
  for (const [i, v] of [{ metric, matrix: input.matrix, series: input.series, history: input.history }, ...(input.more ?? [])].entries()) {
    // The first metric's sections keep their plain ids; the others' carry their metric.
    const id = i === 0 ? '' : `-${v.metric}`;
    if (v.matrix?.length) sections.push(await matrixSection(v.matrix, v.metric, unitOf(v.metric), suffixOf(v.metric), id));
    if (v.series?.length) sections.push(await seriesSection(v.series, suffixOf(v.metric), id));
    if (v.history?.length) sections.push(await historySection(v.history, v.metric, unitOf(v.metric), suffixOf(v.metric), id));
  }
  if (input.bisections?.length) sections.push(bisectionSection(input.bisections));
  if (input.sweeps?.length) sections.push(await sweepSection(input.sweeps));
  if (input.fidelity?.length) sections.push(await fidelitySection(input.fidelity));
  if (sections.length === 0) sections.push(`<p class="empty">${escapeHtml(input.empty ?? 'No runs match.')}</p>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(input.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:980px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-variant-numeric:tabular-nums}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}tr.failed td{background:#fdecea;color:#900}h3{margin-top:1.5em}th{background:#f4f4f4}
figure.chart{margin:1em 0}figure.chart svg{max-width:100%;height:auto}figcaption{color:#666;font-size:.9em}
.verdict{font-weight:bold;font-size:1.1em}.verdict.bad{color:#b00}.verdict.good{color:#070}code{background:#f4f4f4;padding:0 .3em}
</style>
</head><body><h1>${escapeHtml(input.title)}</h1>
<p>Generated by allocreplay${input.source ? ` from <code>${escapeHtml(input.source)}</code>` : ''}: ${escapeHtml(unit)}, lower is better.</p>
${sections.join('\n')}
</body></html>
`;
}

/**
 * The sweep report as text (table, markdown, json, csv) and as a line chart
 * (x = flag value, y = metric, one line per trace) for the HTML page.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SweepReport } from '../compare/sweep.js';
import { axisScale } from './charts.js';
import { formatValue, type RenderOptions, type TextFormat } from './tables.js';
import { csv, markdownTable, painter, stdoutColor, table } from './text.js';

/**
 * Flag values down, lines (traces) across; each cell the median with the
 * soft-cap fallbacks when tinyslab counted them, the best value of each
 * line marked ★.
 */
export function renderSweep(r: SweepReport, format: TextFormat, opts: RenderOptions = {}): string {
  if (format === 'json') return JSON.stringify(r, null, 2);
  if (format === 'csv') {
    return csv(
      ['line', 'trace', r.flag, 'median', 'n', 'cap_fallbacks', 'best', 'config_hash', 'lowest'],
      r.lines.flatMap((l) => l.points.map((p) => [l.line, l.trace, p.value, p.median, p.n, p.fallbacks ?? null, p.best, p.configHash, p.lowest])),
    );
  }
  const color = format === 'table' && (opts.color ?? stdoutColor());
  const paint = painter(color);
  const values = [...new Set(r.lines.flatMap((l) => l.points.map((p) => p.x)))].sort((a, b) => a - b);
  const rows = values.map((x) => [
    String(x),
    ...r.lines.map((l) => {
      const p = l.points.find((q) => q.x === x);
      if (!p) return '—';
      const v = `${formatValue(p.median, r.metric)}${p.fallbacks !== undefined ? ` fb=${p.fallbacks}` : ''}`;
      return p.best ? (format === 'markdown' ? `**${v}** ★` : paint.green(`${v} ★`)) : v;
    }),
  ]);
  const head = [r.flag, ...r.lines.map((l) => l.line)];
  const notes = [`median ${r.metric === 'time' ? 'ns/op' : 'instructions'} per ${r.flag} value; ★ best of the column: every other value clearly slower (95% CI of the ratio above 1)`];
  if (r.lines.some((l) => l.points.some((p) => p.fallbacks !== undefined))) notes.push('fb = tinyslab soft-cap fallbacks');
  // A best is named only when its interval says so; otherwise the line says how close the values are.
  const answers = r.lines.map((l) => {
    const best = l.points.find((p) => p.best);
    if (best) return `${l.line}: best ${r.flag}=${best.value}`;
    const low = l.points.find((p) => p.lowest)!;
    return `${l.line}: no clear difference (${l.unclearPct !== undefined ? `±${l.unclearPct.toFixed(1)}%` : 'equal'}; lowest ${r.flag}=${low.value})`;
  });
  if (format === 'markdown') return `${markdownTable(head, rows)}\n\n${notes.map((n) => `_${n}_`).join('  \n')}\n\n${answers.map((a) => `- ${a}`).join('\n')}`;
  return `${table(head, rows, { color })}\n${paint.dim(notes.join('\n'))}\n${answers.join('\n')}`;
}

/** The sweep chart's spec: one line per trace over the flag's values, best points filled. */
export function sweepChart(r: SweepReport): TopLevelSpec {
  // Only a claimed best (every other value clearly slower) is filled.
  const data = r.lines.flatMap((l) => l.points.map((p) => ({ x: p.x, value: p.median, line: l.line, best: p.best })));
  const xScale = axisScale(data.map((d) => d.x));
  const yScale = axisScale(data.map((d) => d.value));
  const scale = (s: string): Record<string, unknown> => (s === 'linear' ? { zero: false } : { type: s });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 400,
    height: 220,
    data: { values: data },
    mark: { type: 'line', point: true },
    encoding: {
      // The axis spans the swept values exactly (a log axis would otherwise round out to powers of ten).
      x: { field: 'x', type: 'quantitative', title: `${r.flag}${xScale === 'linear' ? '' : ` (${xScale} axis)`}`, scale: { ...scale(xScale), nice: false }, axis: { values: [...new Set(data.map((d) => d.x))] } },
      y: { field: 'value', type: 'quantitative', title: `median ${r.metric === 'time' ? 'ns/op' : 'instructions'}${yScale === 'linear' ? '' : ` (${yScale} axis)`}`, scale: scale(yScale) },
      color: { field: 'line', type: 'nominal', title: null, sort: r.lines.map((l) => l.line), legend: { orient: 'bottom', columns: 1, labelLimit: 500 } },
    },
  } as TopLevelSpec;
}

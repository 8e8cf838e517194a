import type { Outcome } from '../engine/index.js';
import { bold, bootstrapRatioCI, configurationNames, csv, dim, green, markdownTable, type MatrixCell, matrixCells, rowKey, ratioText, ratioWithUncertainty, red, renderMatrixCells, statusText, stdoutColor, systemShareText, table, TIMING_ADVICE, type TimingWarning, type TimingWarningKind, timingWarnings } from '../reports/index.js';
import { formatBytes, type Metric } from '../traces/index.js';

export { bold, dim, green, red, table } from '../reports/index.js';

function statusCell(o: Outcome, notes: ReasonNotes): string {
  if (o.status === 'ok') return '';
  return red(outcomeStatus(o)) + notes.mark(o);
}

/** The one crash-text form (`crashed: SIGABRT at op 9998`); a run that failed otherwise adds its error. */
function outcomeStatus(o: Outcome): string {
  const text = statusText(o);
  return o.status !== 'crashed' && o.error ? `${text}: ${o.error}` : text;
}

/** Footnotes holding the stderr tail of runs that did not end ok: `[n]` in the cell, the lines below the table. */
class ReasonNotes {
  private readonly numbers = new Map<Outcome, number>();
  private readonly lines: string[] = [];
  constructor(outcomes: Outcome[], labels: Map<string, string>) {
    for (const o of outcomes) {
      if (o.status === 'ok' || !o.stderrTail?.length) continue;
      const n = this.numbers.size + 1;
      this.numbers.set(o, n);
      this.lines.push(`[${n}] ${labels.get(keyOf(o))} on ${o.trace}, last lines on stderr:`, ...o.stderrTail.map((l) => `      ${l}`));
    }
  }
  mark(o: Outcome): string {
    const n = this.numbers.get(o);
    return n === undefined ? '' : ` [${n}]`;
  }
  text(): string {
    return this.lines.length ? `\n${dim(this.lines.join('\n'))}` : '';
  }
}

/** The label pass over this invocation's configurations (all of this machine). */
function labelsOf(outcomes: Outcome[]): Map<string, string> {
  return configurationNames(outcomes.map((o) => ({ configHash: o.configHash, machine: '', label: o.label, configuration: o.configuration })));
}
/** The key of an outcome's row: its configuration on this machine (as rowKey with no host). */
const keyOf = (o: Outcome): string => rowKey({ configHash: o.configHash, machine: '' });

/** How a configuration compares with the first one of its trace: ratio candidate ÷ baseline and its 95% CI. */
interface Relative {
  baseline: Outcome;
  ratio: number;
  ci: [number, number];
}

const valueOf = (o: Outcome, metric: Metric): number | undefined => (metric === 'time' ? o.nsPerOp : o.instructions);

/** Each outcome against the first of its trace that has a figure (the same statistics `report compare` uses). */
function relatives(outcomes: Outcome[], metric: Metric): Map<Outcome, Relative> {
  const out = new Map<Outcome, Relative>();
  for (const list of byTrace(outcomes).values()) {
    const base = list.find((o) => valueOf(o, metric) !== undefined);
    if (!base) continue;
    for (const o of list) {
      const v = valueOf(o, metric);
      if (o === base || v === undefined) continue;
      const ratio = v / valueOf(base, metric)!;
      const ci: [number, number] = metric === 'time' ? bootstrapRatioCI(base.samples.map((s) => s.nsPerOp), o.samples.map((s) => s.nsPerOp)) : [ratio, ratio];
      out.set(o, { baseline: base, ratio, ci });
    }
  }
  return out;
}

function byTrace(outcomes: Outcome[]): Map<string, Outcome[]> {
  const m = new Map<string, Outcome[]>();
  for (const o of outcomes) m.set(o.trace, [...(m.get(o.trace) ?? []), o]);
  return m;
}

/** The doubts about each measured configuration's timings (none for exact counts or stored runs). */
function warningsOf(o: Outcome, metric: Metric): TimingWarning[] {
  return metric === 'time' && o.status === 'ok' && !o.skipped ? timingWarnings(o.samples) : [];
}

/** `Warning: trace × label: what; what` per doubtful configuration, then what to do about each kind, once. */
function warningLines(outcomes: Outcome[], metric: Metric, labels: Map<string, string>, md: boolean): string[] {
  const kinds = new Set<TimingWarningKind>();
  const lines = outcomes.flatMap((o) => {
    const ws = warningsOf(o, metric);
    for (const w of ws) kinds.add(w.kind);
    return ws.length ? [`Warning: ${o.trace} × ${labels.get(keyOf(o))}: ${ws.map((w) => w.text).join('; ')}`] : [];
  });
  if (!lines.length) return [];
  const advice = [...kinds].map((k) => TIMING_ADVICE[k]).join('; ');
  return md ? [...lines.map((l) => `- ${l}`), `_${advice}_`] : [...lines.map((l) => red(l)), dim(advice)];
}

/** Formats replay and matrix results are printed or exported in. */
export type OutcomeFormat = 'table' | 'markdown' | 'csv' | 'json';

/**
 * hyperfine-style table per trace: median ns/op ± MAD, min…max, Mops/s,
 * peak RSS, and each configuration relative to the first one that ran with
 * the uncertainty of that ratio; then warnings where the timings are doubtful.
 */
export function renderOutcomes(outcomes: Outcome[], metric: Metric, statColumns: string[] = [], format: OutcomeFormat = 'table'): string {
  const labels = labelsOf(outcomes);
  const rel = relatives(outcomes, metric);
  const notes = new ReasonNotes(outcomes, labels);
  if (format === 'json') return JSON.stringify(outcomes.map((o) => outcomeJson(o, rel.get(o), warningsOf(o, metric))), null, 2);
  if (format === 'csv') {
    return csv(
      ['trace', 'configuration', 'config_hash', 'status', 'median', 'mad', 'min', 'max', 'n', 'instructions', 'peak_rss_kib', 'baseline', 'ratio', 'ratio_ci_low', 'ratio_ci_high', 'warnings'],
      outcomes.map((o) => {
        const ns = o.samples.map((s) => s.nsPerOp);
        const r = rel.get(o);
        return [o.trace, labels.get(keyOf(o))!, o.configHash, o.status, o.nsPerOp ?? null, o.nsPerOpSpread ?? null, ns.length ? Math.min(...ns) : null, ns.length ? Math.max(...ns) : null, o.samples.length, o.instructions ?? null, o.peakRssKiB ?? null, r ? labels.get(keyOf(r.baseline))! : null, r?.ratio ?? null, r?.ci[0] ?? null, r?.ci[1] ?? null, warningsOf(o, metric).map((w) => w.text).join('; ')];
      }),
    );
  }
  const md = format === 'markdown';
  const parts: string[] = [];
  for (const [trace, list] of byTrace(outcomes)) {
    const systemNs = systemNsPerOp(list);
    const rows = list.map((o) => {
      const value = valueOf(o, metric);
      const r = rel.get(o);
      let relCell = '';
      if (r) {
        const text = metric === 'time' ? ratioWithUncertainty(r.ratio, r.ci) : ratioText(r.ratio);
        relCell = md || text.startsWith('no clear') ? text : r.ratio >= 1 ? red(text) : green(text);
      } else if (value !== undefined && list.some((x) => rel.get(x)?.baseline === o)) relCell = 'baseline';
      const cells = [labels.get(keyOf(o))! + (o.skipped ? (md ? ' (stored)' : dim(' (stored)')) : '')];
      if (metric === 'time') {
        const ns = o.samples.map((s) => s.nsPerOp);
        cells.push(
          value !== undefined ? `${value.toFixed(2)} ± ${(o.nsPerOpSpread ?? 0).toFixed(2)}` : '',
          ns.length && value !== undefined ? `${Math.min(...ns).toFixed(2)} … ${Math.max(...ns).toFixed(2)}` : '',
          value !== undefined ? (1000 / value).toFixed(1) : '',
        );
        if (systemNs !== undefined) cells.push(systemShareText(value, systemNs));
      } else {
        cells.push(value !== undefined ? value.toLocaleString('en-US') : '', value !== undefined ? (value / (o.samples[0] ? o.samples[0].wallNs / o.samples[0].nsPerOp : 1)).toFixed(1) : '');
      }
      cells.push(o.peakRssKiB !== undefined ? formatBytes(o.peakRssKiB * 1024) : '', relCell);
      for (const k of statColumns) cells.push(o.allocatorStats?.[k] !== undefined ? String(o.allocatorStats[k]) : '');
      cells.push(md ? statusCell(o, notes).replace(/\u001b\[[0-9;]*m/g, '') : statusCell(o, notes));
      return cells;
    });
    const head =
      metric === 'time'
        ? ['configuration', 'ns/op (median ± MAD)', 'min … max', 'Mops/s', ...(systemNs !== undefined ? ['% of system'] : []), 'peak RSS', 'relative']
        : ['configuration', 'instructions', 'instr/op', 'peak RSS', 'relative'];
    head.push(...statColumns, '');
    parts.push(md ? `**${trace}**\n\n${markdownTable(head, rows)}` : `${bold(trace)}\n${table(head, rows)}`);
  }
  const warnings = warningLines(outcomes, metric, labels, md);
  if (metric === 'time' && rel.size) parts.push(md ? '_relative: median ratio to the first configuration ± half its 95% CI (bootstrap)_' : dim('relative: median ratio to the first configuration ± half its 95% CI (bootstrap)'));
  if (warnings.length) parts.push(warnings.join('\n'));
  return parts.join('\n\n') + notes.text();
}

/** The system allocator's ns/op among outcomes of one trace (time metric), if it was measured. */
function systemNsPerOp(list: Outcome[]): number | undefined {
  return list.find((o) => o.configuration.target.kind === 'system' && o.nsPerOp !== undefined)?.nsPerOp;
}

/** The JSON object per (trace, configuration) that `--json` prints. */
export function outcomeJson(o: Outcome, r?: Relative, warnings: TimingWarning[] = []): Record<string, unknown> {
  return {
    trace: o.trace,
    target: o.target,
    configuration: o.label,
    configHash: o.configHash,
    identity: o.configuration,
    status: o.status,
    skipped: o.skipped,
    runId: o.runId ?? null,
    nsPerOp: o.nsPerOp ?? null,
    nsPerOpMad: o.nsPerOpSpread ?? null,
    instructions: o.instructions ?? null,
    peakRssKiB: o.peakRssKiB ?? null,
    samples: o.samples.length,
    relative: r ? { to: r.baseline.configHash, ratio: r.ratio, ciLow: r.ci[0], ciHigh: r.ci[1] } : null,
    warnings,
    allocatorStats: o.allocatorStats ?? null,
    error: o.error ?? null,
    signal: o.signal ?? null,
    opIndex: o.opIndex ?? null,
    stderrTail: o.stderrTail ?? null,
  };
}

/** Every outcome as --json prints it, with its ratio and warnings. */
export function outcomesJson(outcomes: Outcome[], metric: Metric): Record<string, unknown>[] {
  const rel = relatives(outcomes, metric);
  return outcomes.map((o) => outcomeJson(o, rel.get(o), warningsOf(o, metric)));
}

/**
 * Outcomes of a matrix as the cells `report matrix` renders (one renderer
 * serves both): median and spread from the samples, the best per trace, the
 * ratio to it with its bootstrap CI.
 */
export function outcomeCells(outcomes: Outcome[], metric: Metric): MatrixCell[] {
  const exact = metric === 'instructions';
  const figures = (o: Outcome): number[] => (o.status !== 'ok' ? [] : exact ? (o.instructions !== undefined ? [o.instructions] : []) : o.samples.map((s) => s.nsPerOp));
  return matrixCells(
    outcomes.map((o) => ({
      trace: o.trace,
      configHash: o.configHash,
      machine: '',
      label: o.label,
      configuration: o.configuration,
      status: o.status === 'ok' ? 'ok' : statusText(o),
      ...(o.error ? { error: o.error } : {}),
      values: figures(o),
      system: o.configuration.target.kind === 'system',
      ...(o.allocatorStats?.cap_fallbacks !== undefined ? { fallbacks: o.allocatorStats.cap_fallbacks } : {}),
    })),
    metric,
  );
}

/**
 * The matrix summary: `report matrix`'s renderer over this invocation's
 * outcomes, then warnings where the timings are doubtful.
 */
export function renderMatrix(outcomes: Outcome[], metric: Metric, format: OutcomeFormat = 'table'): string {
  // One label pass: the cells' labels serve the footnotes and the warnings too.
  const named = outcomeCells(outcomes, metric);
  const labels = new Map(named.map((c) => [rowKey(c), c.label]));
  const reasons = new ReasonNotes(outcomes, labels);
  const cells = named.map((c, i) => ({ ...c, status: c.status + reasons.mark(outcomes[i]!) }));
  if (format === 'json') return JSON.stringify(outcomesJson(outcomes, metric), null, 2);
  const body = renderMatrixCells(cells, metric, format, { color: format === 'table' && stdoutColor() });
  if (format === 'csv') return body;
  const stored = outcomes.filter((o) => o.skipped).length;
  const notes = stored ? [`${stored} of ${outcomes.length} cells measured earlier on this machine (stored), not re-run`] : [];
  const md = format === 'markdown';
  const warnings = warningLines(outcomes, metric, labels, md);
  return [body, ...notes.map((n) => (md ? `_${n}_` : dim(n))), ...warnings].join('\n') + reasons.text();
}

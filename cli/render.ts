import type { Outcome } from '../engine/index.js';
import { bold, dim, distinctLabels, green, red, statusText, systemShareText, table } from '../reports/index.js';
import { formatBytes, type ImportResult } from '../traces/index.js';

export { bold, dim, green, red, table } from '../reports/index.js';

function statusCell(o: Outcome, notes: ReasonNotes): string {
  if (o.status === 'ok') return '';
  const why = o.status === 'crashed' ? `${o.signal ?? 'signal'}${o.opIndex !== undefined ? ` at op ${o.opIndex}` : ''}` : (o.error ?? '');
  return red(`${o.status}${why ? `: ${why}` : ''}`) + notes.mark(o);
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

/** Labels that differ between distinct configurations (a short hash is added where two read the same). */
function labelsOf(outcomes: Outcome[]): Map<string, string> {
  return distinctLabels(outcomes.map((o) => ({ configHash: o.configHash, machine: '', label: o.label })));
}
const keyOf = (o: Outcome): string => `${o.configHash}\0`;

/**
 * hyperfine-style table per trace: median ns/op ± MAD, min…max, Mops/s,
 * peak RSS, and each configuration relative to the first one that ran.
 */
export function renderOutcomes(outcomes: Outcome[], metric: 'time' | 'instructions', statColumns: string[] = []): string {
  const byTrace = new Map<string, Outcome[]>();
  for (const o of outcomes) byTrace.set(o.trace, [...(byTrace.get(o.trace) ?? []), o]);
  const labels = labelsOf(outcomes);
  const notes = new ReasonNotes(outcomes, labels);
  const parts: string[] = [];
  for (const [trace, list] of byTrace) {
    const base = list.find((o) => (metric === 'time' ? o.nsPerOp : o.instructions) !== undefined);
    const baseValue = base ? (metric === 'time' ? base.nsPerOp! : base.instructions!) : undefined;
    const systemNs = systemNsPerOp(list);
    const rows = list.map((o) => {
      const value = metric === 'time' ? o.nsPerOp : o.instructions;
      const rel = value !== undefined && baseValue ? value / baseValue : undefined;
      const relCell = rel === undefined ? '' : o === base ? 'baseline' : rel >= 1 ? red(`${rel.toFixed(2)}× slower`) : green(`${(1 / rel).toFixed(2)}× faster`);
      const cells = [labels.get(keyOf(o))! + (o.skipped ? dim(' (stored)') : '')];
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
      cells.push(statusCell(o, notes));
      return cells;
    });
    const head =
      metric === 'time'
        ? ['configuration', 'ns/op (median ± MAD)', 'min … max', 'Mops/s', ...(systemNs !== undefined ? ['% of system'] : []), 'peak RSS', 'relative']
        : ['configuration', 'instructions', 'instr/op', 'peak RSS', 'relative'];
    head.push(...statColumns, '');
    parts.push(`${bold(trace)}\n${table(head, rows)}`);
  }
  return parts.join('\n\n') + notes.text();
}

/** The system allocator's ns/op among outcomes of one trace (time metric), if it was measured. */
function systemNsPerOp(list: Outcome[]): number | undefined {
  return list.find((o) => o.configuration.target.kind === 'system' && o.nsPerOp !== undefined)?.nsPerOp;
}

/** The JSON object per (trace, configuration) that `--json` prints. */
export function outcomeJson(o: Outcome): Record<string, unknown> {
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
    allocatorStats: o.allocatorStats ?? null,
    error: o.error ?? null,
    signal: o.signal ?? null,
    opIndex: o.opIndex ?? null,
    stderrTail: o.stderrTail ?? null,
  };
}

/**
 * The matrix summary: one row per configuration, one column per trace
 * (median ns/op or instructions, × relative to the best of the column, best
 * marked), and allocator counters worth seeing (cap fallbacks).
 */
export function renderMatrix(outcomes: Outcome[], metric: 'time' | 'instructions'): string {
  const traces = [...new Set(outcomes.map((o) => o.trace))];
  const labels = labelsOf(outcomes);
  const reasons = new ReasonNotes(outcomes, labels);
  // One row per configuration (by hash): two that read the same are never merged.
  const keys = [...new Set(outcomes.map(keyOf))];
  const value = (o: Outcome | undefined): number | undefined => (o ? (metric === 'time' ? o.nsPerOp : o.instructions) : undefined);
  const best = new Map(traces.map((t) => [t, Math.min(...outcomes.filter((o) => o.trace === t).map((o) => value(o) ?? Infinity))]));
  const hasFallbacks = outcomes.some((o) => o.allocatorStats?.cap_fallbacks !== undefined);
  const systemNs = new Map(traces.map((t) => [t, metric === 'time' ? systemNsPerOp(outcomes.filter((o) => o.trace === t)) : undefined]));
  const rows = keys.map((key) => {
    const cells = [labels.get(key)!];
    for (const t of traces) {
      const o = outcomes.find((x) => keyOf(x) === key && x.trace === t);
      const v = value(o);
      if (!o) cells.push('—');
      else if (v === undefined) cells.push(red(statusText({ status: o.status, signal: o.signal ?? null })) + reasons.mark(o));
      else {
        const b = best.get(t)!;
        const text = metric === 'time' ? `${v.toFixed(2)} ns` : v.toLocaleString('en-US');
        const rel = v === b ? green('★ best') : `×${(v / b).toFixed(2)}`;
        const fb = hasFallbacks && o.allocatorStats?.cap_fallbacks !== undefined ? dim(` fb=${o.allocatorStats.cap_fallbacks}`) : '';
        const sys = systemNs.get(t) !== undefined && o.configuration.target.kind !== 'system' ? dim(` ${systemShareText(v, systemNs.get(t))} of sys`) : '';
        cells.push(`${text} ${rel}${sys}${fb}${o.skipped ? dim('*') : ''}`);
      }
    }
    return cells;
  });
  const notes = [`${metric === 'time' ? 'median ns/op' : 'instructions'} per trace; ★ best of the column, ×N relative to it`];
  if ([...systemNs.values()].some((v) => v !== undefined)) notes.push('N% of sys = throughput (ops/s) as a share of the system allocator\'s on that trace');
  if (hasFallbacks) notes.push('fb = soft-cap fallbacks counted by tinyslab (TS_STATS) over the run');
  if (outcomes.some((o) => o.skipped)) notes.push('* measured earlier on this machine (stored), not re-run');
  return `${table(['configuration', ...traces], rows)}\n${dim(notes.join('; '))}${reasons.text()}`;
}

/** The summary an import prints: what became events, and what was left out and why. */
export function renderImport(out: string, r: ImportResult): string {
  const c = r.counts;
  return [
    `${out}: ${r.footer.events.toLocaleString('en-US')} events, ${r.footer.objects.toLocaleString('en-US')} objects, ${r.footer.threads} threads from ${r.lines.toLocaleString('en-US')} lines`,
    `not replayed: ${c.unknownFrees} frees of unknown pointers, ${c.nullFrees} free(NULL)${c.lostFrees ? `, ${c.lostFrees} missed frees synthesised` : ''}${r.skipped ? `; ${r.skipped} malformed lines skipped (--lenient)` : ''}`,
  ].join('\n');
}

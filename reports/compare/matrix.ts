/**
 * The matrix report: every (configuration, trace) cell, one row per
 * configuration (keyed by its hash and machine, never by its label), the
 * runs that gave no figure shown by what happened to them.
 */
import type { Metric } from '../../traces/index.js';
import { measured, parseSelector, selectRuns } from '../select/index.js';
import { bootstrapMedianCI, mad, median } from '../stats/index.js';
import type { Store } from '../store/index.js';
import { distinctLabels, rowKey, statusText } from './labels.js';

/** One (configuration, trace) cell of the matrix. */
export interface MatrixCell {
  trace: string;
  label: string;
  configHash: string;
  machine: string;
  /** `ok`, or what happened to the newest run when no run gave a figure: `crashed: SIGSEGV`, `timeout`, `failed`, `alloc-failed`. */
  status: string;
  /** The newest failing run's error text (absent for ok cells). */
  error?: string;
  /** NaN when status is not ok. */
  median: number;
  mad: number;
  /** Bootstrap 95% CI of the median (error bars); equal to the median for exact metrics. */
  lo: number;
  hi: number;
  n: number;
  /** Instruction counts: one sample decides, no CI is drawn or printed. */
  exact: boolean;
  /** The lowest median of its trace. */
  best: boolean;
  /** median ÷ best median of the trace (1 for the best, NaN for a cell with no figure). */
  relative: number;
  /** Bootstrap 95% CI of `relative`, when the samples were at hand (timings only). */
  relativeCi?: [number, number];
  /** tinyslab's soft-cap fallbacks (TS_STATS), from the newest run that recorded them. */
  fallbacks?: number;
  /** Throughput as a share of the system allocator's on the same trace (system ns/op ÷ this ns/op), when the system allocator was measured. */
  systemShare?: number;
}

/**
 * Configurations × traces: medians with spread and CI, the best per trace
 * marked, and a cell for every configuration whose runs all failed. Cells
 * are grouped by trace (traces in name order), configurations in the order
 * they were first measured; labels are made distinct.
 */
export function matrixReport(store: Store, opts: { metric: Metric; selector?: string }): MatrixCell[] {
  const sel = opts.selector ? parseSelector(opts.selector) : undefined;
  const exact = opts.metric === 'instructions';
  const cells: MatrixCell[] = measured(store, opts.metric, sel).map((m) => {
    const fb = m.runs.find((r) => r.allocatorStats?.cap_fallbacks !== undefined)?.allocatorStats?.cap_fallbacks;
    const mid = median(m.values);
    const [lo, hi] = exact ? [mid, mid] : bootstrapMedianCI(m.values);
    return { trace: m.trace, label: m.label, configHash: m.configHash, machine: m.machine, status: 'ok', median: mid, mad: mad(m.values), lo, hi, n: m.values.length, exact, best: false, relative: 1, ...(fb !== undefined ? { fallbacks: fb } : {}) };
  });
  // Configurations with no ok run on a trace: the newest run says what happened (runs come newest first).
  const have = new Set(cells.map((c) => `${c.trace}\0${rowKey(c)}`));
  const machines = new Set(cells.map((c) => c.machine));
  for (const r of selectRuns(store, sel, { metric: opts.metric, status: 'any' }).runs) {
    machines.add(r.machine);
    const k = `${r.trace}\0${rowKey(r)}`;
    if (have.has(k) || r.status === 'ok') continue;
    have.add(k);
    cells.push({ trace: r.trace, label: r.label, configHash: r.configHash, machine: r.machine, status: statusText(r), ...(r.error ? { error: r.error } : {}), median: NaN, mad: NaN, lo: NaN, hi: NaN, n: 0, exact, best: false, relative: NaN });
  }
  // measured() names the machine when there are several; do the same for the failed rows it never saw.
  if (machines.size > 1) for (const c of cells) if (c.status !== 'ok' && !c.label.endsWith(` on ${c.machine}`)) c.label = `${c.label} on ${c.machine}`;
  const labels = distinctLabels(cells);
  for (const c of cells) c.label = labels.get(rowKey(c))!;
  for (const t of new Set(cells.map((c) => c.trace))) {
    const mine = cells.filter((c) => c.trace === t && c.status === 'ok');
    const best = Math.min(...mine.map((c) => c.median));
    for (const c of mine) {
      c.best = c.median === best;
      c.relative = c.median / best;
    }
  }
  // Grouped by trace; within a trace the configurations keep their first-measured order (a stable sort).
  return cells.sort((a, b) => a.trace.localeCompare(b.trace));
}

/**
 * The matrix report: every (configuration, trace) cell, one row per
 * configuration (keyed by its hash and machine, never by its label), the
 * runs that gave no figure shown by what happened to them. One cell
 * builder serves `report matrix` (stored runs) and `matrix` (this
 * invocation's outcomes), so "best" follows one rule everywhere.
 */
import type { Metric } from '../../traces/index.js';
import { measured, parseSelector, selectRuns } from '../select/index.js';
import { bootstrapMedianCI, bootstrapRatioCI, mad, median } from '../stats/index.js';
import type { Store } from '../store/index.js';
import { configurationNames, type Nameable, type NameOptions, rowKey, statusText } from './labels.js';

/** One (configuration, trace) cell of the matrix. */
export interface MatrixCell {
  trace: string;
  /** What tells the configuration apart from the others of the matrix (the label pass). */
  label: string;
  /** Every field of the configuration. */
  fullLabel: string;
  configHash: string;
  machine: string;
  /** `ok`, or what happened to the newest run when no run gave a figure: `crashed: SIGSEGV at op 12`, `timeout`, `failed`, `alloc-failed`. */
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
  /** The lowest median of its trace, whatever the intervals say. */
  lowest: boolean;
  /**
   * The best of its trace, claimed: the lowest median, and every other
   * cell of the trace clearly above it (its ratio's 95% CI excludes 1; for
   * exact counts, strictly more). False for every cell of a trace with no clear best.
   */
  best: boolean;
  /** median ÷ lowest median of the trace (1 for the lowest, NaN for a cell with no figure). */
  relative: number;
  /** Bootstrap 95% CI of `relative`, when the samples were at hand (timings only). */
  relativeCi?: [number, number];
  /** tinyslab's soft-cap fallbacks (TS_STATS), from the newest run that recorded them. */
  fallbacks?: number;
  /** Throughput as a share of the system allocator's on the same trace (system ns/op ÷ this ns/op), when the system allocator was measured. */
  systemShare?: number;
}

/** What the cell builder needs of one (configuration, trace): its figures, or what happened to it. */
export interface CellInput extends Nameable {
  trace: string;
  /** `ok`, or statusText of what happened. */
  status: string;
  error?: string;
  /** Every figure (ns/op per repetition, or the instruction count); empty when status is not ok. */
  values: number[];
  fallbacks?: number;
  /** The system allocator (the other cells' `systemShare` is against it). */
  system: boolean;
}

/** Of a trace with no clear best: the lowest and how far the interval of the nearest reaches (±%). */
export interface UnclearBest {
  trace: string;
  lowest: string;
  /** The widest distance from 1 of the ratio CIs that hold 1, percent. */
  withinPct: number;
  /** Labels of the cells not clearly above the lowest. */
  alike: string[];
}

/**
 * The cell builder: median, MAD and CI per cell, labels from the label
 * pass over every cell, and per trace the ratio to the lowest with its
 * bootstrap CI. "Best" is claimed only when every other cell of the trace
 * is clearly slower (see MatrixCell.best). Cells keep the input order.
 */
export function matrixCells(inputs: readonly CellInput[], metric: Metric, opts: NameOptions = {}): MatrixCell[] {
  const exact = metric === 'instructions';
  const short = configurationNames(inputs, { ...opts, long: false });
  const long = configurationNames(inputs, { ...opts, long: true });
  const shown = opts.long ? long : short;
  const cells = inputs.map((x): MatrixCell & { values: number[] } => {
    const ok = x.status === 'ok' && x.values.length > 0;
    const mid = ok ? median(x.values) : NaN;
    const [lo, hi] = !ok ? [NaN, NaN] : exact ? [mid, mid] : bootstrapMedianCI(x.values);
    return {
      trace: x.trace,
      label: shown.get(rowKey(x))!,
      fullLabel: long.get(rowKey(x))!,
      configHash: x.configHash,
      machine: x.machine,
      status: ok ? 'ok' : x.status === 'ok' ? 'failed' : x.status,
      ...(x.error && !ok ? { error: x.error } : {}),
      median: mid,
      mad: ok ? mad(x.values) : NaN,
      lo,
      hi,
      n: x.values.length,
      exact,
      lowest: false,
      best: false,
      relative: NaN,
      ...(x.fallbacks !== undefined ? { fallbacks: x.fallbacks } : {}),
      values: ok ? x.values : [],
    };
  });
  for (const t of new Set(cells.map((c) => c.trace))) {
    const mine = cells.filter((c) => c.trace === t && c.status === 'ok');
    const low = mine.reduce<(typeof mine)[number] | undefined>((b, c) => (!b || c.median < b.median ? c : b), undefined);
    if (!low) continue;
    low.lowest = true;
    for (const c of mine) {
      c.relative = c.median / low.median;
      if (!exact && c !== low) c.relativeCi = bootstrapRatioCI(low.values, c.values);
    }
    const clearlyAbove = (c: (typeof mine)[number]): boolean => (exact ? c.median > low.median : c.relativeCi![0] > 1);
    low.best = mine.length > 1 && mine.every((c) => c === low || clearlyAbove(c));
    const sys = exact ? undefined : mine.find((c) => inputs[cells.indexOf(c)]!.system);
    if (sys) for (const c of mine) if (c !== sys) c.systemShare = sys.median / c.median;
  }
  return cells.map(({ values: _values, ...c }) => c);
}

/** Per trace (in cell order) that has several figures but no clear best: what ties with the lowest, and within what. */
export function unclearBests(cells: readonly MatrixCell[]): UnclearBest[] {
  const out: UnclearBest[] = [];
  for (const t of new Set(cells.map((c) => c.trace))) {
    const mine = cells.filter((c) => c.trace === t && c.status === 'ok');
    const low = mine.find((c) => c.lowest);
    if (!low || mine.length < 2 || low.best) continue;
    const alike = mine.filter((c) => c !== low && (c.exact ? c.median === low.median : c.relativeCi![0] <= 1));
    const withinPct = Math.max(0, ...alike.map((c) => (c.relativeCi ? Math.max(Math.abs(c.relativeCi[0] - 1), Math.abs(c.relativeCi[1] - 1)) * 100 : 0)));
    out.push({ trace: t, lowest: low.label, withinPct, alike: alike.map((c) => c.label) });
  }
  return out;
}

/**
 * Configurations × traces from the store: every configuration's figures
 * per trace, and a cell for every configuration whose runs all failed (the
 * newest run says what happened). Cells are grouped by trace (traces in
 * name order), configurations in the order they were first measured.
 */
export function matrixReport(store: Store, opts: { metric: Metric; selector?: string; long?: boolean }): MatrixCell[] {
  const sel = opts.selector ? parseSelector(opts.selector) : undefined;
  const inputs: CellInput[] = measured(store, opts.metric, sel).map((m) => ({
    trace: m.trace,
    configHash: m.configHash,
    machine: m.machine,
    label: m.label,
    configuration: m.configuration,
    status: 'ok',
    values: m.values,
    system: m.runs[0]!.targetKind === 'system',
    ...fallbacksOf(m.runs),
  }));
  // Configurations with no ok run on a trace: the newest run says what happened (runs come newest first).
  const have = new Set(inputs.map((c) => `${c.trace}\0${rowKey(c)}`));
  for (const r of selectRuns(store, sel, { metric: opts.metric, status: 'any' }).runs) {
    const k = `${r.trace}\0${rowKey(r)}`;
    if (have.has(k) || r.status === 'ok') continue;
    have.add(k);
    inputs.push({ trace: r.trace, configHash: r.configHash, machine: r.machine, label: r.label, configuration: r.configuration, status: statusText(r), ...(r.error ? { error: r.error } : {}), values: [], system: r.targetKind === 'system' });
  }
  const cells = matrixCells(inputs, opts.metric, { long: opts.long ?? false });
  // Grouped by trace; within a trace the configurations keep their first-measured order (a stable sort).
  return cells.sort((a, b) => a.trace.localeCompare(b.trace));
}

/** tinyslab's soft-cap fallbacks from the newest run that counted them. */
function fallbacksOf(runs: readonly { allocatorStats: Record<string, number> | null }[]): { fallbacks?: number } {
  const fb = runs.find((r) => r.allocatorStats?.cap_fallbacks !== undefined)?.allocatorStats?.cap_fallbacks;
  return fb !== undefined ? { fallbacks: fb } : {};
}

/**
 * The sweep report: a metric against the values of one numeric flag (the
 * soft cap, a size-class count, …), one line per trace and per
 * configuration that differs in anything else, the best value of each line
 * marked. Configurations are grouped by their canonical identity with the
 * swept flag taken out, never by label.
 */
import type { Metric } from '../../traces/index.js';
import { canonicalJson, type Configuration, configurationHash } from '../identity/index.js';
import { configurationNames, rowKey } from './labels.js';
import { matrixCells, unclearBests } from './matrix.js';
import { emptyNote, measured } from '../select/index.js';
import type { Store } from '../store/index.js';
import { usageError } from '../../traces/index.js';

/** One flag value on one line. */
export interface SweepPointRow {
  /** The flag's value as stored. */
  value: string;
  /** The same, as a number (the chart's x). */
  x: number;
  median: number;
  n: number;
  /** tinyslab's soft-cap fallbacks (TS_STATS), from the newest run that recorded them. */
  fallbacks?: number;
  configHash: string;
  /** The lowest median of its line. */
  lowest: boolean;
  /** The best of its line, claimed: the lowest, with every other value clearly above it (the matrix's rule). */
  best: boolean;
  /** median ÷ the line's lowest, with its bootstrap 95% CI (timings). */
  relative: number;
  relativeCi?: [number, number];
}

/** The points of one trace × configuration-without-the-flag, in increasing flag value. */
export interface SweepLine {
  trace: string;
  /** `trace`, plus what else tells it apart when several lines share the trace. */
  line: string;
  points: SweepPointRow[];
  /** Set when the line has no clear best: how far the interval of a value not clearly above the lowest reaches (±%). */
  unclearPct?: number;
}

export interface SweepReport {
  flag: string;
  /** Every line's identity (the swept flag taken out), by `line`. */
  fullLines?: Record<string, string>;
  metric: Metric;
  lines: SweepLine[];
}

/** The configuration with the swept flag taken out: what a line is. */
function without(c: Configuration, flag: string): Configuration {
  const flags = { ...c.flags };
  delete flags[flag];
  const env = { ...c.env };
  delete env[flag];
  return { ...c, flags, env };
}

/**
 * Every stored run (matching `selector`) whose configuration sets `flag` to
 * a number, as lines over the flag's values. Lines with a single value are
 * left out: they sweep nothing.
 */
export function sweepReport(store: Store, opts: { flag: string; metric: Metric; selector?: string; long?: boolean }): SweepReport {
  const groups = new Map<string, { trace: string; config: Configuration; points: (SweepPointRow & { values: number[] })[] }>();
  const all = measured(store, opts.metric, opts.selector);
  // Nothing selected at all: say what the database does hold, and the flag that selects it.
  if (all.length === 0) throw usageError(emptyNote(store, opts.metric, opts.selector), `\`allocreplay report sweep --flag ${opts.flag}\` sweeps what --select and --metric pick`);
  for (const m of all) {
    const c = m.runs[0]?.configuration;
    const value = c?.flags[opts.flag] ?? c?.env[opts.flag];
    if (!c || value === undefined || !Number.isFinite(Number(value)) || m.values.length === 0) continue;
    const rest = without(c, opts.flag);
    const key = `${m.trace}\0${canonicalJson({ ...rest, name: undefined })}`;
    const g = groups.get(key) ?? { trace: m.trace, config: rest, points: [] };
    const fb = m.runs.find((r) => r.allocatorStats?.cap_fallbacks !== undefined)?.allocatorStats?.cap_fallbacks;
    g.points.push({ value, x: Number(value), median: NaN, n: m.values.length, ...(fb !== undefined ? { fallbacks: fb } : {}), configHash: m.configHash, lowest: false, best: false, relative: NaN, values: m.values });
    groups.set(key, g);
  }
  const kept = [...groups.values()].filter((g) => new Set(g.points.map((p) => p.x)).size > 1);
  if (kept.length === 0) {
    throw usageError(`no stored ${opts.metric} runs sweep ${opts.flag}${opts.selector ? ` (selector '${opts.selector}')` : ''}`, `measure several values first, e.g. \`allocreplay matrix TRACE -t tinyslab --set ${opts.flag}=8,32,128\``);
  }
  // Lines that share a trace are told apart by what differs between their configurations (the label pass).
  const named = kept.map((g) => ({ configHash: configurationHash(g.config), machine: '', label: '', configuration: g.config }));
  const labels = configurationNames(named, opts.long ? { long: true } : {});
  const full = configurationNames(named, { long: true });
  const fullLines: Record<string, string> = {};
  const lines = kept.map((g, i) => {
    const shared = kept.filter((o) => o.trace === g.trace).length > 1 || opts.long;
    const line = shared ? `${g.trace} ${labels.get(rowKey(named[i]!))!}` : g.trace;
    fullLines[line] = full.get(rowKey(named[i]!))!;
    const sorted = [...g.points].sort((a, b) => a.x - b.x);
    // One line is one "trace" of the matrix's cell builder: the same rule for "best".
    const cells = matrixCells(sorted.map((p) => ({ trace: line, configHash: p.configHash, machine: '', label: p.value, status: 'ok', values: p.values, system: false })), opts.metric);
    const unclear = unclearBests(cells)[0];
    const points = sorted.map(({ values: _v, ...p }, k) => ({ ...p, median: cells[k]!.median, lowest: cells[k]!.lowest, best: cells[k]!.best, relative: cells[k]!.relative, ...(cells[k]!.relativeCi ? { relativeCi: cells[k]!.relativeCi } : {}) }));
    return { trace: g.trace, line, points, ...(unclear ? { unclearPct: unclear.withinPct } : {}) };
  });
  return { flag: opts.flag, fullLines, metric: opts.metric, lines: lines.sort((a, b) => a.line.localeCompare(b.line, 'en', { numeric: true })) };
}

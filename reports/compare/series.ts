/**
 * The live-bytes-vs-RSS series: per trace, the samples the driver took over
 * one replay of every configuration (its newest run that has a series).
 * Nothing is cut here: every configuration is returned, and whoever draws
 * them says how many it left out.
 */
import type { Metric } from '../../traces/index.js';
import { selectRuns } from '../select/index.js';
import type { RunRow, Store } from '../store/index.js';
import { configurationNames, type Nameable, rowKey } from './labels.js';

/** Live bytes vs RSS over one replay of each configuration on a trace. */
export interface SeriesReport {
  trace: string;
  /** Live bytes of the trace (KiB) at each sampled op: the same for every configuration. */
  live: { op: number; kib: number }[];
  /** RSS growth (KiB) per configuration, from its newest run that carries a series; one entry per configuration and machine. */
  rss: { label: string; configHash: string; machine: string; points: { op: number; kib: number }[] }[];
  /** Configurations measured on the trace whose runs carry no series (the driver does not sample in every mode): named, never dropped silently. */
  missing: { label: string; configHash: string; machine: string }[];
}

/**
 * Per trace (in name order), the series of every configuration that has
 * one (of runs of `metric`, when given: the configurations of the page's
 * tables). `labels` (keyed by `rowKey`) lets a page use the same labels as
 * its tables; otherwise the label pass names them among themselves.
 */
export function seriesReport(store: Store, opts: { selector?: string; metric?: Metric; labels?: ReadonlyMap<string, string> } = {}): SeriesReport[] {
  const { runs } = selectRuns(store, opts.selector, opts.metric ? { metric: opts.metric } : {});
  const out = new Map<string, SeriesReport>();
  const seen = new Set<string>();
  const named: Nameable[] = [];
  const without = new Map<string, RunRow>();
  for (const r of runs) {
    const key = `${r.trace}\0${rowKey(r)}`;
    if (!r.series || r.series.length < 2) {
      if (!without.has(key)) without.set(key, r);
      continue;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    named.push(r);
    let s = out.get(r.trace);
    if (!s) out.set(r.trace, (s = { trace: r.trace, live: [], rss: [], missing: [] }));
    if (s.live.length === 0) s.live = r.series.map((p) => ({ op: p.op, kib: p.liveBytes / 1024 }));
    s.rss.push({ label: r.label, configHash: r.configHash, machine: r.machine, points: r.series.map((p) => ({ op: p.op, kib: p.rssKiB })) });
  }
  for (const [key, r] of without) {
    if (seen.has(key)) continue;
    named.push(r);
    let s = out.get(r.trace);
    if (!s) out.set(r.trace, (s = { trace: r.trace, live: [], rss: [], missing: [] }));
    s.missing.push({ label: r.label, configHash: r.configHash, machine: r.machine });
  }
  const all = [...out.values()];
  const own = configurationNames(named);
  for (const s of all) for (const x of [...s.rss, ...s.missing]) x.label = opts.labels?.get(rowKey(x)) ?? own.get(rowKey(x))!;
  return all.sort((a, b) => a.trace.localeCompare(b.trace));
}

import { usageError } from '../../traces/index.js';
import { type Comparison, compareSamples, median, type Verdict } from '../stats/index.js';
import type { RunRow, Store } from '../store/index.js';

export type ReportMetric = 'time' | 'instructions';

/**
 * A selector: `rev=`, `target=`, `session=`, `config=` (hash prefix),
 * `trace=`, and flag or environment assignments `NAME=value`, separated by
 * spaces or commas. Every part must match.
 */
export interface Selector {
  text: string;
  parts: [string, string][];
}

export function parseSelector(text: string): Selector {
  const parts: [string, string][] = [];
  for (const tok of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([A-Za-z_][\w.]*)=(.*)$/.exec(tok);
    if (!m) throw usageError(`selector '${text}': '${tok}' is not NAME=value`, 'use rev=, target=, session=, config=, trace= or FLAG=value');
    parts.push([m[1]!, m[2]!]);
  }
  return { text, parts };
}

export function matches(run: RunRow, sel: Selector): boolean {
  return sel.parts.every(([k, v]) => {
    switch (k) {
      case 'rev':
        return run.revision !== null && (run.revision.startsWith(v) || run.revision === `dir-${v}`);
      case 'target':
        return run.target === v;
      case 'session':
        return String(run.session) === v;
      case 'config':
        return run.configHash.startsWith(v);
      case 'trace':
        return run.trace === v;
      default:
        return run.flags[k] === v || run.env[k] === v;
    }
  });
}

/** A configuration's measurements on one trace, pooled over its runs. */
export interface Measured {
  trace: string;
  configHash: string;
  label: string;
  revision: string | null;
  values: number[];
  runs: RunRow[];
}

/** Every (trace, configuration) with ok runs of `metric`, and their samples. */
export function measured(store: Store, metric: ReportMetric, sel?: Selector): Measured[] {
  const out = new Map<string, Measured>();
  for (const r of store.runs()) {
    if (r.metric !== metric || r.status !== 'ok' || (sel && !matches(r, sel))) continue;
    const key = `${r.trace}\0${r.configHash}`;
    let m = out.get(key);
    if (!m) {
      m = { trace: r.trace, configHash: r.configHash, label: r.label, revision: r.revision, values: [], runs: [] };
      out.set(key, m);
    }
    m.runs.push(r);
    for (const s of store.samples(r.id)) {
      const v = metric === 'time' ? s.nsPerOp : s.instructions;
      if (v !== null) m.values.push(v);
    }
  }
  return [...out.values()].reverse();
}

function oneConfigPerTrace(list: Measured[], sel: Selector, role: string): Map<string, Measured> {
  const byTrace = new Map<string, Measured>();
  for (const m of list) {
    const had = byTrace.get(m.trace);
    if (had && had.configHash !== m.configHash) {
      throw usageError(`${role} '${sel.text}' matches several configurations on trace ${m.trace} (${had.label}; ${m.label})`, 'narrow it with more NAME=value parts or config=HASH');
    }
    byTrace.set(m.trace, m);
  }
  return byTrace;
}

export interface CompareRow extends Comparison {
  trace: string;
  metric: ReportMetric;
  baseline: string;
  candidate: string;
  baselineN: number;
  candidateN: number;
}

/** Per trace that both select: medians, delta, CI, p and verdict. */
export function compare(store: Store, baseline: string, candidate: string, opts: { metric: ReportMetric; thresholdPct: number }): CompareRow[] {
  const bs = parseSelector(baseline);
  const cs = parseSelector(candidate);
  const b = oneConfigPerTrace(measured(store, opts.metric, bs), bs, 'baseline');
  const c = oneConfigPerTrace(measured(store, opts.metric, cs), cs, 'candidate');
  const rows: CompareRow[] = [];
  for (const [trace, bm] of b) {
    const cm = c.get(trace);
    if (!cm) continue;
    const cmp = compareSamples(bm.values, cm.values, { thresholdPct: opts.thresholdPct, exact: opts.metric === 'instructions' });
    rows.push({ ...cmp, trace, metric: opts.metric, baseline: bm.label, candidate: cm.label, baselineN: bm.values.length, candidateN: cm.values.length });
  }
  if (rows.length === 0) throw usageError(`no trace has ok ${opts.metric} runs for both '${baseline}' and '${candidate}'`, '`allocreplay db runs` lists what is stored');
  return rows;
}

export interface MatrixCell {
  trace: string;
  label: string;
  configHash: string;
  median: number;
  n: number;
  best: boolean;
  fallbacks?: number;
}

/** Configurations × traces: medians, the best per trace marked. */
export function matrixReport(store: Store, opts: { metric: ReportMetric; selector?: string }): MatrixCell[] {
  const list = measured(store, opts.metric, opts.selector ? parseSelector(opts.selector) : undefined);
  const cells: MatrixCell[] = list.map((m) => {
    const fb = m.runs[0]?.allocatorStats?.cap_fallbacks;
    return { trace: m.trace, label: m.label, configHash: m.configHash, median: median(m.values), n: m.values.length, best: false, ...(fb !== undefined ? { fallbacks: fb } : {}) };
  });
  for (const t of new Set(cells.map((c) => c.trace))) {
    const mine = cells.filter((c) => c.trace === t);
    const best = Math.min(...mine.map((c) => c.median));
    for (const c of mine) c.best = c.median === best;
  }
  return cells;
}

export interface HistoryPoint {
  revision: string;
  label: string;
  median: number;
  n: number;
  created: string;
}

/** A metric over revisions of a target on one trace, oldest first (commit order when `order` is given). */
export function history(store: Store, opts: { metric: ReportMetric; selector: string; order?: string[] }): Map<string, HistoryPoint[]> {
  const list = measured(store, opts.metric, parseSelector(opts.selector)).filter((m) => m.revision);
  const out = new Map<string, HistoryPoint[]>();
  for (const m of list) {
    const pts = out.get(m.trace) ?? [];
    pts.push({ revision: m.revision!, label: m.label, median: median(m.values), n: m.values.length, created: m.runs.map((r) => r.created).sort()[0]! });
    out.set(m.trace, pts);
  }
  for (const pts of out.values()) {
    const pos = (r: string): number => (opts.order ? opts.order.indexOf(r) : -1);
    pts.sort((a, b) => (opts.order ? pos(a.revision) - pos(b.revision) : a.created.localeCompare(b.created)));
  }
  return out;
}

export function anyRegression(rows: { verdict: Verdict }[]): boolean {
  return rows.some((r) => r.verdict === 'regression');
}

/**
 * The history report: a metric over revisions. A line is one trace under
 * one configuration apart from its revision, on one machine, built from one
 * repository; its points are revisions in git order (runs of one revision
 * pooled into one point), and a step compares two different revisions.
 * Lines of different (target, repository) never share an axis.
 */
import type { Metric } from '../../traces/index.js';
import { parseSelector, sampleValue, selectRuns } from '../select/index.js';
import { bootstrapMedianCI, type Comparison, compareSamples, mad, median } from '../stats/index.js';
import type { RunRow, Store } from '../store/index.js';
import { commitOrder } from './git.js';
import { configurationNames, identities, type Nameable, rowKey, statusText } from './labels.js';

/** One revision of a history line: every run of it pooled. */
export interface HistoryPoint {
  revision: string;
  /** The commit's subject, when the repository is at hand. */
  subject?: string;
  /** Index in the repository's commit order (`git log --topo-order --reverse`), when git knows the revision. */
  position?: number;
  /** `ok`, or — when no run of this revision gave a figure — what happened to the newest: `failed`, `crashed: SIGSEGV`, `timeout`, … */
  status: string;
  /** The configuration label of the newest run at this revision. */
  label: string;
  /** Every configuration pooled into this point (one, unless the store keeps finer identities than a line). */
  configHashes: string[];
  median: number;
  mad: number;
  /** Bootstrap 95% CI of the median; equal to the median for exact metrics. */
  lo: number;
  hi: number;
  /** Samples pooled. */
  n: number;
  /** Runs pooled. */
  runs: number;
  /** The first run's time (ISO): the order when git cannot give one. */
  created: string;
  /** Against the previous ok point of the same line (absent on the first and on points with no figure); always between two different revisions. */
  step?: Comparison;
}

/** One line: a trace under a configuration apart from its revision. */
export interface HistoryLine {
  /** `trace`, or `trace · what sets it apart` when its trace has several lines on the axis. */
  name: string;
  trace: string;
  target: string;
  /** The repository the builds came from (null when unknown). */
  repo: string | null;
  machine: string;
  /** What sets the line apart from the other lines of its trace on the axis (empty when alone). */
  variant: string;
  /** `git`: commit order of `repo`; `runs`: order of each revision's first run (no repository at hand). */
  order: 'git' | 'runs';
  points: HistoryPoint[];
}

/** Options of history. */
export interface HistoryOptions {
  metric: Metric;
  /** Selector of the runs; the empty string selects all. */
  selector: string;
  /** Percent, for each step's verdict (default 2). */
  thresholdPct?: number;
  /** The repository of runs whose build did not record one (`--repo`); it also orders lines whose recorded repository is gone. */
  repo?: string;
  /** Per target name, its repository (from allocreplay.yaml): the same role as `repo`, per target. */
  repos?: Record<string, string>;
  /** Name each line by every field of its configuration, not only what differs. */
  long?: boolean;
}

/** The repository each run was built from (builds.repo), when its build recorded one. */
function buildRepos(store: Store, runs: RunRow[]): Map<number, string> {
  const rows = store.db
    .prepare('SELECT r.id, b.repo FROM runs r JOIN builds b ON b.id = r.build_id WHERE r.id IN (SELECT value FROM json_each(?)) AND b.repo IS NOT NULL')
    .all(JSON.stringify(runs.map((r) => r.id))) as { id: number; repo: string }[];
  return new Map(rows.map((r) => [r.id, r.repo]));
}

/**
 * Lines sorted by (target, repository, trace, variant); each line's points
 * in commit order (`git log --topo-order` of its repository) when the
 * repository is at hand, else by each revision's first run. Revisions git
 * does not know go last, by run time. Runs without a revision are left out.
 */
export function history(store: Store, opts: HistoryOptions): HistoryLine[] {
  const exact = opts.metric === 'instructions';
  const sel = selectRuns(store, parseSelector(opts.selector), { metric: opts.metric, status: 'any' });
  const runs = [...sel.runs].filter((r) => r.revision).reverse(); // oldest first
  const repos = buildRepos(store, runs);
  const ids = identities(store, runs.map((r) => r.configHash));
  type Acc = { trace: string; target: string; repo: string | null; machine: string; identity: Record<string, string>; named: Nameable; points: Map<string, { values: number[]; runs: RunRow[] }> };
  const lines = new Map<string, Acc>();
  for (const r of runs) {
    // A run that did not finish counts only where its revision has no figure at all (then the point says what happened).
    const values = r.status === 'ok' ? (sel.samples.get(r.id) ?? []).map((s) => sampleValue(s, opts.metric)).filter((v): v is number => v !== null && Number.isFinite(v)) : [];
    if (values.length === 0 && r.status === 'ok') continue;
    const repo = repos.get(r.id) ?? opts.repos?.[r.target] ?? opts.repo ?? null;
    const identity = { ...(ids.get(r.configHash) ?? { config: r.configHash }), machine: r.machine };
    const key = JSON.stringify([r.trace, repo, Object.entries(identity).sort()]);
    let line = lines.get(key);
    if (!line) lines.set(key, (line = { trace: r.trace, target: r.target, repo, machine: r.machine, identity, named: r, points: new Map() }));
    const p = line.points.get(r.revision!) ?? { values: [], runs: [] };
    p.values.push(...values);
    p.runs.push(r);
    line.points.set(r.revision!, p);
  }
  // What sets a line apart is computed among the lines of its trace on its axis.
  const axisOf = (l: Acc): string => JSON.stringify([l.target, l.repo, l.trace]);
  const groups = new Map<string, Acc[]>();
  for (const l of lines.values()) groups.set(axisOf(l), [...(groups.get(axisOf(l)) ?? []), l]);
  const variants = new Map<Acc, string>();
  // The label pass, without what the axis names (target) and what varies along a line (revision, uncommitted changes).
  for (const g of groups.values()) {
    const names = configurationNames(g.map((l) => l.named), { omit: ['target', 'rev', 'dirty'], ...(opts.long ? { long: true } : {}) });
    for (const l of g) variants.set(l, g.length > 1 || opts.long ? names.get(rowKey(l.named))! : '');
  }

  const out: HistoryLine[] = [];
  for (const l of lines.values()) {
    // Order from the recorded repository when git can read it, else from the hint.
    const order = (l.repo ? commitOrder(l.repo) : undefined) ?? [opts.repos?.[l.target], opts.repo].map((r) => (r ? commitOrder(r) : undefined)).find(Boolean);
    const index = new Map(order?.commits.map((c, i) => [c, i]));
    const pos = (rev: string): number => index.get(rev) ?? (order && rev.length >= 7 ? order.commits.findIndex((c) => c.startsWith(rev)) : -1);
    const points: (HistoryPoint & { values: number[] })[] = [...l.points.entries()].map(([revision, p]) => {
      const mid = median(p.values);
      const [lo, hi] = exact || p.values.length === 0 ? [mid, mid] : bootstrapMedianCI(p.values);
      const newest = p.runs.at(-1)!;
      const status = p.values.length ? 'ok' : statusText(newest);
      const commit = order?.commits[pos(revision)];
      const subject = commit ? order?.subjects.get(commit) : undefined;
      const position = pos(revision);
      return {
        revision,
        ...(subject !== undefined ? { subject } : {}),
        ...(position >= 0 ? { position } : {}),
        status,
        label: newest.label,
        configHashes: [...new Set(p.runs.map((r) => r.configHash))],
        median: mid,
        mad: mad(p.values),
        lo,
        hi,
        n: p.values.length,
        runs: p.runs.filter((r) => r.status === 'ok').length,
        created: p.runs.map((r) => r.created).sort()[0]!,
        values: p.values,
      };
    });
    points.sort((a, b) => {
      const pa = pos(a.revision);
      const pb = pos(b.revision);
      if (pa >= 0 && pb >= 0) return pa - pb;
      if (pa >= 0 !== pb >= 0) return pa >= 0 ? -1 : 1;
      return a.created.localeCompare(b.created);
    });
    let prev: (typeof points)[number] | undefined;
    for (const p of points) {
      if (p.status !== 'ok') continue;
      if (prev) p.step = compareSamples(prev.values, p.values, { thresholdPct: opts.thresholdPct ?? 2, exact });
      prev = p;
    }
    const variant = variants.get(l) ?? '';
    if (!points.some((p) => p.status === 'ok')) continue; // a line with no figure at all is the matrix's business
    out.push({
      name: variant ? `${l.trace} · ${variant}` : l.trace,
      trace: l.trace,
      target: l.target,
      repo: l.repo,
      machine: l.machine,
      variant,
      order: order && points.some((p) => pos(p.revision) >= 0) ? 'git' : 'runs',
      points: points.map(({ values, ...p }) => (void values, p)),
    });
  }
  return out.sort((a, b) => a.target.localeCompare(b.target) || (a.repo ?? '').localeCompare(b.repo ?? '') || a.trace.localeCompare(b.trace) || a.variant.localeCompare(b.variant));
}

/** Lines that share an axis: one (target, repository). Keys read `target @ repo` (or the target alone). */
export function historyAxes(lines: readonly HistoryLine[]): Map<string, HistoryLine[]> {
  const out = new Map<string, HistoryLine[]>();
  for (const l of lines) {
    const k = l.repo ? `${l.target} @ ${l.repo}` : l.target;
    out.set(k, [...(out.get(k) ?? []), l]);
  }
  return out;
}

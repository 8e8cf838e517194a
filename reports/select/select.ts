/**
 * Selectors: how every report names a set of runs.
 *
 * A selector is `KEY=value` parts separated by spaces or commas; every part
 * must hold (AND). Keys name fields of the canonical configuration:
 *   rev=REF         revision: a commit prefix, or (resolved by the CLI through
 *                   the targets' repositories) any git ref; `a|b` is either
 *   target=NAME     target name, exactly;  kind=system|preload|source
 *   repo=PATH       source repository;     library=PATH  preloaded library
 *   dirty=PREFIX    hash of built uncommitted changes (`dirty=none`: clean)
 *   mode=, touch=, warmup=, pace=, pace_scale=   replay options (pace=none: configurations without pacing)
 *   machine=HOST    hostname or machine key prefix (merged databases hold several)
 *   session=ID      the CLI session that measured the run
 *   config=PREFIX   configuration hash starts with PREFIX
 *   trace=NAME      trace name, or a prefix of its checksum
 *   NAME=value      a compile-time flag (defaults filled in) or runtime variable
 * The empty selector selects everything. Resolution is SQL against the
 * store's tables (runs, configurations, traces, machines, samples), read-only.
 */
import type { Metric } from '../../traces/index.js';
import type { Configuration } from '../identity/index.js';
import { usageError } from '../../traces/index.js';
import { type RunRow, type SampleRow, type Store, sampleRow } from '../store/index.js';

/** The metrics a report compares. Lower is better for both. */

/** A parsed selector. `parts` keep the order they were written in. */
export interface Selector {
  text: string;
  parts: [string, string][];
}

/** Parses `target=tinyslab TS_INLINE=0` (or comma separated). Throws a usage error naming the bad part. */
export function parseSelector(text: string): Selector {
  const parts: [string, string][] = [];
  for (const tok of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([A-Za-z_][\w.]*)=(.*)$/.exec(tok);
    if (!m) throw usageError(`selector '${text}': '${tok}' is not NAME=value`, 'use rev=, target=, kind=, repo=, library=, dirty=, mode=, touch=, warmup=, pace=, pace_scale=, machine=, session=, config=, trace= or FLAG=value');
    if (m[1] === 'session' && !/^\d+$/.test(m[2]!)) throw usageError(`selector '${text}': session= takes a session id, got '${m[2]}'`, '`allocreplay db runs` shows session ids');
    parts.push([m[1]!, m[2]!]);
  }
  return { text, parts };
}

/** LIKE pattern for a prefix, with LIKE's wildcards escaped (ESCAPE '\'). */
const prefix = (v: string): string => `${v.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The WHERE clause (over aliases r, c, t, m) for a selector. */
function whereOf(sel: Selector | undefined): { sql: string[]; args: unknown[] } {
  const sql: string[] = [];
  const args: unknown[] = [];
  for (const [k, v] of sel?.parts ?? []) {
    switch (k) {
      case 'rev': {
        const alts = v.split('|');
        sql.push(`(${alts.map(() => "c.revision LIKE ? ESCAPE '\\' OR c.revision = ?").join(' OR ')})`);
        for (const a of alts) args.push(prefix(a), `dir-${a}`);
        break;
      }
      case 'kind':
        sql.push('c.target_kind = ?');
        args.push(v);
        break;
      case 'repo':
      case 'library':
        sql.push(`json_extract(c.identity, '$.target.${k}') = ?`);
        args.push(v);
        break;
      case 'dirty':
        if (v === 'none') sql.push("json_extract(c.identity, '$.dirty') IS NULL");
        else sql.push("json_extract(c.identity, '$.dirty') LIKE ? ESCAPE '\\'"), args.push(prefix(v));
        break;
      case 'mode':
      case 'touch':
      case 'warmup':
        sql.push(`CAST(json_extract(c.options, '$.${k}') AS TEXT) = ?`);
        args.push(v);
        break;
      case 'pace':
        // pace=none is the default, stored as no `pace` at all.
        if (v === 'none') sql.push("json_extract(c.options, '$.pace') IS NULL");
        else sql.push("json_extract(c.options, '$.pace') = ?"), args.push(v);
        break;
      case 'pace_scale':
        sql.push("CAST(json_extract(c.options, '$.paceScale') AS TEXT) = ?");
        args.push(v);
        break;
      case 'target':
        sql.push('c.target = ?');
        args.push(v);
        break;
      case 'session':
        sql.push('r.session_id = ?');
        args.push(Number(v));
        break;
      case 'config':
        sql.push("c.hash LIKE ? ESCAPE '\\'");
        args.push(prefix(v));
        break;
      case 'trace':
        sql.push("(t.name = ? OR (? <> '' AND t.checksum LIKE ? ESCAPE '\\'))");
        args.push(v, v, prefix(v));
        break;
      case 'machine':
        sql.push("(m.hostname = ? OR m.key LIKE ? ESCAPE '\\')");
        args.push(v, prefix(v));
        break;
      default: {
        // NAME matched /[\w.]+/ in parseSelector, so quoting it in a JSON path is safe.
        const path = `$."${k}"`;
        sql.push('(json_extract(c.flags, ?) = ? OR json_extract(c.env, ?) = ?)');
        args.push(path, v, path, v);
      }
    }
  }
  return { sql, args };
}

/** Runs that a selector picks, with their samples. */
export interface Selection {
  selector: Selector;
  /** Newest first, as `Store.runs` returns them. */
  runs: RunRow[];
  samples: Map<number, SampleRow[]>;
}

/**
 * Resolves a selector to runs (status ok unless `status` says otherwise; of
 * `metric` when given) and all their samples, in three queries.
 */
export function selectRuns(store: Store, sel: Selector | string | undefined, opts: { metric?: Metric; status?: RunRow['status'] | 'any' } = {}): Selection {
  const selector = typeof sel === 'string' ? parseSelector(sel) : (sel ?? { text: '', parts: [] });
  const w = whereOf(selector);
  if (opts.metric) w.sql.push('r.metric = ?'), w.args.push(opts.metric);
  if ((opts.status ?? 'ok') !== 'any') w.sql.push('r.status = ?'), w.args.push(opts.status ?? 'ok');
  const ids = (
    store.db
      .prepare(
        `SELECT r.id FROM runs r JOIN configurations c ON c.id = r.configuration_id JOIN traces t ON t.id = r.trace_id JOIN machines m ON m.id = r.machine_id
         ${w.sql.length ? `WHERE ${w.sql.join(' AND ')}` : ''}`,
      )
      .all(...w.args) as { id: number }[]
  ).map((r) => r.id);
  const runs = ids.length ? store.runs({ ids }) : [];
  const samples = new Map<number, SampleRow[]>(runs.map((r) => [r.id, []]));
  if (ids.length) {
    // One pass over the samples of the chosen runs (a json_each list keeps the statement size fixed).
    const rows = store.db
      .prepare('SELECT * FROM samples WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, rep')
      .all(JSON.stringify(ids)) as Record<string, number | null>[];
    for (const s of rows) {
      samples.get(s.run_id as number)?.push(sampleRow(s));
    }
  }
  return { selector, runs, samples };
}

/** The value of a sample for a metric: ns per op, or the instruction count (null when not measured). */
export function sampleValue(s: SampleRow, metric: Metric): number | null {
  return metric === 'time' ? s.nsPerOp : s.instructions;
}

/** One configuration's measurements on one trace (on one machine), pooled over its runs. */
export interface Measured {
  trace: string;
  configHash: string;
  /** The full label as stored (tables name configurations through reports/compare's label pass). */
  label: string;
  /** The canonical configuration (null for rows stored before configurations were canonical). */
  configuration: Configuration | null;
  target: string;
  revision: string | null;
  machine: string;
  /** Every sample value of every run, oldest run first. */
  values: number[];
  /** Newest first. */
  runs: RunRow[];
}

/**
 * Groups a selection by (trace, configuration, machine): the unit every
 * report works on. Oldest group first (by its first run); groups with no
 * value for the metric are left out.
 */
export function measured(store: Store, metric: Metric, sel?: Selector | string): Measured[] {
  const s = selectRuns(store, sel, { metric });
  const out = new Map<string, Measured>();
  for (const r of [...s.runs].reverse()) {
    const key = `${r.trace}\0${r.configHash}\0${r.machine}`;
    let m = out.get(key);
    if (!m) {
      m = { trace: r.trace, configHash: r.configHash, label: r.label, configuration: r.configuration, target: r.target, revision: r.revision, machine: r.machine, values: [], runs: [] };
      out.set(key, m);
    }
    m.runs.unshift(r);
    for (const x of s.samples.get(r.id) ?? []) {
      const v = sampleValue(x, metric);
      if (v !== null && Number.isFinite(v)) m.values.push(v);
    }
  }
  return [...out.values()].filter((m) => m.values.length > 0);
}

/** The metrics the database holds finished runs of, in the order reports list them. */
export function heldMetrics(store: Store, sel?: Selector | string): Metric[] {
  const held = new Set(selectRuns(store, sel, {}).runs.map((r) => r.metric));
  return (['time', 'instructions'] as const).filter((m) => held.has(m));
}

/**
 * What a report that selected nothing says instead of an empty page: what
 * the database does hold (finished runs per metric, their targets and
 * traces) and the flag that would select them.
 */
export function emptyNote(store: Store, metric: Metric, selector?: string, what = 'runs'): string {
  const all = selectRuns(store, undefined, {}).runs;
  if (all.length === 0) return `the database ${store.path} holds no finished runs: measure first (\`allocreplay replay TRACE -t system\`)`;
  const of = (m: Metric): number => all.filter((r) => r.metric === m).length;
  const held = (['time', 'instructions'] as const).filter((m) => of(m) > 0);
  const list = (xs: string[]): string => (xs.length > 4 ? `${xs.slice(0, 4).join(', ')} and ${xs.length - 4} more` : xs.join(', '));
  const asked = `no ${metric} ${what} match${selector ? ` the selector '${selector}'` : ''}`;
  const holds = `the database holds ${held.map((m) => `${of(m)} ${m} run${of(m) === 1 ? '' : 's'}`).join(' and ')}`;
  if (of(metric) === 0) return `${asked}: ${holds}; select them with --metric ${held[0]}`;
  const mine = all.filter((r) => r.metric === metric);
  const targets = list([...new Set(mine.map((r) => r.target))]);
  const traces = list([...new Set(mine.map((r) => r.trace))]);
  return `${asked}: ${holds} (targets ${targets}; traces ${traces})${selector ? '; drop the selector or narrow it to these, e.g. target=' + mine[0]!.target : ''}`;
}

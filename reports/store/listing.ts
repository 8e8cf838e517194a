/**
 * What the `db` commands list: every sample with its run, trace and
 * configuration (db export), and the newest runs with the median every
 * report prints (db runs). The SQL and the statistics live here, beside the
 * store, so the commands only parse, call and print.
 */
import { median } from '../stats/index.js';
import type { RunRow } from './rows.js';
import type { Store } from './store.js';

/** One row per sample (a run with no sample yet gives one row of nulls), oldest run first; flags and env as stored (JSON text). */
export function exportRows(store: Store): Record<string, unknown>[] {
  return store.query(`SELECT r.id AS run, r.uuid AS run_uuid, m.hostname AS machine, t.name AS trace, t.checksum AS trace_checksum,
      c.target, c.revision, c.label AS configuration, c.hash AS config_hash, c.flags, c.env, r.metric, r.status, r.error,
      s.rep, s.wall_ns, s.ns_per_op, s.peak_rss_kib, s.max_rss_kib, s.instructions, s.cycles, r.created
    FROM runs r JOIN machines m ON m.id = r.machine_id JOIN traces t ON t.id = r.trace_id JOIN configurations c ON c.id = r.configuration_id
    LEFT JOIN samples s ON s.run_id = r.id ORDER BY r.id, s.rep`);
}

/** A stored run with its sample count and its median (ns/op or instructions; null when no sample gave a figure). */
export type RunSummary = RunRow & { samples: number; value: number | null };

/** The newest runs, each with the same median compare, matrix and history print (reports/stats). */
export function runSummaries(store: Store, limit: number): RunSummary[] {
  return store.runs({ limit }).map((r) => {
    const s = store.samples(r.id);
    const values = (r.metric === 'time' ? s.map((x) => x.nsPerOp) : s.map((x) => x.instructions)).filter((v): v is number => v !== null && Number.isFinite(v));
    return { ...r, samples: s.length, value: values.length ? median(values) : null };
  });
}

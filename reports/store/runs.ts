/**
 * Runs and their samples as stored: writing a run (opened, then a sample
 * per repetition, or whole in one transaction) and reading runs back with
 * their trace, configuration and machine.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { type Metric, METRICS, RUN_STATUSES, wordOf } from '../../traces/index.js';
import type { Configuration } from '../identity/index.js';
import { type RunHead, type RunRecord, type RunRow, type SampleRecord, sampleRow, type SampleRow, type StoredState } from './rows.js';

/** The machine a run is measured on: its row and the row of what it measures with. */
export interface MeasuredOn {
  machine: number;
  identity: number;
}

/** Which runs to read; none given: all of them. */
export interface RunFilter {
  id?: number;
  ids?: number[];
  limit?: number;
  session?: number;
}

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parse = <T>(v: unknown): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : null);

export function openRun(db: Database.Database, on: MeasuredOn, r: RunHead): number {
  return Number(
    db
      .prepare(
        `INSERT INTO runs (uuid, session_id, machine_id, machine_identity_id, trace_id, configuration_id, build_id, metric, status, error, signal, op_index, allocator_stats, series, checks, stderr_tail, created)
         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      )
      .run(randomUUID(), r.sessionId, on.machine, on.identity, r.traceId, r.configurationId, r.buildId ?? null, r.metric, r.status, r.error ?? null, r.signal ?? null, r.opIndex ?? null, json(r.allocatorStats), json(r.series), json(r.checks), json(r.stderrTail), new Date().toISOString()).lastInsertRowid,
  );
}

export function appendSample(db: Database.Database, runId: number, s: SampleRecord): void {
  db.prepare(
    `INSERT INTO samples (run_id, rep, wall_ns, ns_per_op, user_us, sys_us, max_rss_kib, peak_rss_kib, minor_faults, major_faults, vol_ctx, inv_ctx, instructions, cycles, rss_base_kib)
     VALUES (?, (SELECT COUNT(*) FROM samples WHERE run_id = ?), ?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  ).run(runId, runId, Math.round(s.wallNs), s.nsPerOp, s.userUs ?? null, s.sysUs ?? null, s.maxRssKiB ?? null, s.peakRssKiB ?? null, s.minorFaults ?? null, s.majorFaults ?? null, s.volCtxSwitches ?? null, s.invCtxSwitches ?? null, s.instructions ?? null, s.cycles ?? null, s.rssBaseKiB ?? null);
}

/** What updateRun may change. */
export type RunUpdate = Partial<Pick<RunHead, 'status' | 'error' | 'signal' | 'opIndex' | 'allocatorStats' | 'series' | 'checks' | 'stderrTail'>>;

export function updateRun(db: Database.Database, runId: number, r: RunUpdate): void {
  const sets: string[] = [];
  const args: unknown[] = [];
  const put = (col: string, v: unknown): void => {
    sets.push(`${col} = ?`);
    args.push(v);
  };
  if (r.status !== undefined) put('status', r.status);
  if (r.error !== undefined) put('error', r.error);
  if (r.signal !== undefined) put('signal', r.signal);
  if (r.opIndex !== undefined) put('op_index', r.opIndex);
  if (r.allocatorStats !== undefined) put('allocator_stats', json(r.allocatorStats));
  if (r.series !== undefined) put('series', json(r.series));
  if (r.checks !== undefined) put('checks', json(r.checks));
  if (r.stderrTail !== undefined) put('stderr_tail', json(r.stderrTail));
  if (sets.length) db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, runId);
}

/** A whole run, its samples and its profile in ONE transaction. */
export function recordRun(db: Database.Database, on: MeasuredOn, r: RunRecord): number {
  const insertProfile = db.prepare('INSERT INTO profiles (run_id, function, file, self_ir, incl_ir) VALUES (?,?,?,?,?)');
  return db.transaction(() => {
    const { samples, profile, ...head } = r;
    const id = openRun(db, on, head);
    for (const s of samples) appendSample(db, id, s);
    for (const p of profile ?? []) insertProfile.run(id, p.function, p.file ?? null, p.selfIr, p.inclIr);
    return id;
  })();
}

/** Runs, newest first, with their trace and configuration. */
export function readRuns(db: Database.Database, filter: RunFilter = {}): RunRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.id !== undefined) where.push('r.id = ?'), args.push(filter.id);
  if (filter.ids) where.push(`r.id IN (${filter.ids.map(() => '?').join(',') || 'NULL'})`), args.push(...filter.ids);
  if (filter.session !== undefined) where.push('r.session_id = ?'), args.push(filter.session);
  const sql = `SELECT r.*, t.name AS trace, t.checksum AS trace_checksum, t.events AS trace_events, c.target, c.target_kind, c.revision, c.hash, c.label, c.flags, c.env, c.identity, m.hostname
    FROM runs r JOIN traces t ON t.id = r.trace_id JOIN configurations c ON c.id = r.configuration_id JOIN machines m ON m.id = r.machine_id
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC ${filter.limit ? `LIMIT ${Math.floor(filter.limit)}` : ''}`;
  return (db.prepare(sql).all(...args) as Record<string, unknown>[]).map((r) => ({
    id: r.id as number,
    session: r.session_id as number,
    trace: r.trace as string,
    traceChecksum: r.trace_checksum as string,
    traceEvents: r.trace_events as number,
    target: r.target as string,
    targetKind: r.target_kind as string,
    revision: r.revision as string | null,
    configHash: r.hash as string,
    label: r.label as string,
    configuration: parse<Configuration>(r.identity),
    flags: JSON.parse(r.flags as string) as Record<string, string>,
    env: JSON.parse(r.env as string) as Record<string, string>,
    metric: wordOf(METRICS, r.metric, `run ${String(r.id)}'s metric`),
    status: wordOf(RUN_STATUSES, r.status, `run ${String(r.id)}'s status`),
    error: r.error as string | null,
    signal: r.signal as string | null,
    opIndex: r.op_index as number | null,
    allocatorStats: parse(r.allocator_stats),
    series: parse(r.series),
    checks: parse(r.checks),
    stderrTail: parse(r.stderr_tail),
    machine: r.hostname as string,
    created: r.created as string,
  }));
}

export function readSamples(db: Database.Database, runId: number): SampleRow[] {
  return (db.prepare('SELECT * FROM samples WHERE run_id = ? ORDER BY rep').all(runId) as Record<string, number | null>[]).map(sampleRow);
}

/** How (trace, configuration, metric) stands on `machine`: ok samples so far, and the newest run. */
export function storedState(db: Database.Database, machine: number, traceId: number, configurationId: number, metric: Metric): StoredState {
  const ok = db
    .prepare(`SELECT COUNT(*) AS n FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.trace_id = ? AND r.configuration_id = ? AND r.metric = ? AND r.machine_id = ? AND r.status = 'ok'`)
    .get(traceId, configurationId, metric, machine) as { n: number };
  const last = db.prepare('SELECT id FROM runs WHERE trace_id = ? AND configuration_id = ? AND metric = ? AND machine_id = ? ORDER BY id DESC LIMIT 1').get(traceId, configurationId, metric, machine) as { id: number } | undefined;
  return { okSamples: ok.n, latest: last ? readRuns(db, { id: last.id })[0] : undefined };
}

/** Ok runs of (trace, configuration, metric) on `machine`, oldest first. */
export function okRuns(db: Database.Database, machine: number, traceId: number, configurationId: number, metric: Metric): RunRow[] {
  const ids = (
    db.prepare(`SELECT id FROM runs WHERE trace_id = ? AND configuration_id = ? AND metric = ? AND machine_id = ? AND status = 'ok' ORDER BY id`).all(traceId, configurationId, metric, machine) as { id: number }[]
  ).map((r) => r.id);
  return ids.length ? readRuns(db, { ids }).reverse() : [];
}

import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { failure, inputError, usageError } from '../../traces/index.js';
import { MIGRATIONS } from './schema.js';

export { mergeStore, type MergeCounts } from './merge.js';

/** What identifies a configuration: its hash is computed from exactly this. */
export interface ConfigurationSpec {
  target: string;
  targetKind: string;
  revision?: string;
  /** Compile-time flags. */
  flags: Record<string, string>;
  /** Runtime environment. */
  env: Record<string, string>;
  options: { mode: string; touch: string; metric: string };
}

export interface SampleRecord {
  wallNs: number;
  nsPerOp: number;
  userUs?: number;
  sysUs?: number;
  maxRssKiB?: number;
  peakRssKiB?: number;
  minorFaults?: number;
  majorFaults?: number;
  volCtxSwitches?: number;
  invCtxSwitches?: number;
  instructions?: number;
  cycles?: number;
}

export interface RunRecord {
  sessionId: number;
  traceId: number;
  configurationId: number;
  buildId?: number;
  metric: 'time' | 'instructions';
  status: 'ok' | 'failed' | 'crashed' | 'timeout';
  error?: string;
  signal?: string;
  opIndex?: number;
  allocatorStats?: Record<string, number>;
  series?: { op: number; liveBytes: number; rssKiB: number }[];
  checks?: Record<string, number>;
  samples: SampleRecord[];
  profile?: { function: string; file?: string; selfIr: number; inclIr: number }[];
}

export interface BuildRecord {
  key: string;
  target: string;
  repo?: string;
  revision?: string;
  command: string;
  flags: Record<string, string>;
  status: 'ok' | 'failed';
  artifact?: string;
  log: string;
  durationMs: number;
}

/** A run with what reports need of its trace and configuration. */
export interface RunRow {
  id: number;
  session: number;
  trace: string;
  traceChecksum: string;
  traceEvents: number;
  target: string;
  targetKind: string;
  revision: string | null;
  configHash: string;
  label: string;
  flags: Record<string, string>;
  env: Record<string, string>;
  metric: 'time' | 'instructions';
  status: 'ok' | 'failed' | 'crashed' | 'timeout';
  error: string | null;
  signal: string | null;
  opIndex: number | null;
  allocatorStats: Record<string, number> | null;
  series: { op: number; liveBytes: number; rssKiB: number }[] | null;
  checks: Record<string, number> | null;
  machine: string;
  created: string;
}

export interface SampleRow {
  rep: number;
  wallNs: number;
  nsPerOp: number;
  peakRssKiB: number | null;
  maxRssKiB: number | null;
  instructions: number | null;
  cycles: number | null;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The hash that identifies a configuration everywhere (hex sha256). */
export function configurationHash(c: ConfigurationSpec): string {
  return createHash('sha256').update(canonical({ ...c, revision: c.revision ?? null })).digest('hex');
}

/** A human label: `tinyslab@abc1234 TS_POOL=1 MALLOC_CONF=…`. */
export function configurationLabel(c: ConfigurationSpec): string {
  const parts = [c.revision ? `${c.target}@${c.revision.slice(0, 7)}` : c.target];
  for (const [k, v] of Object.entries(c.flags).sort()) parts.push(`${k}=${v}`);
  for (const [k, v] of Object.entries(c.env).sort()) parts.push(`${k}=${v}`);
  return parts.join(' ');
}

/** `.allocreplay/results.sqlite` beside the nearest allocreplay.yaml, else under `cwd`. */
export function defaultDbPath(cwd = process.cwd()): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, 'allocreplay.yaml'))) return join(dir, '.allocreplay', 'results.sqlite');
    const up = dirname(dir);
    if (up === dir) return join(resolve(cwd), '.allocreplay', 'results.sqlite');
    dir = up;
  }
}

function machineFacts(): { key: string; hostname: string; cpu: string; cores: number; memoryKiB: number; kernel: string } {
  const cpu = cpus()[0]?.model ?? 'unknown';
  let machineId = '';
  try {
    machineId = readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    machineId = '';
  }
  const host = hostname();
  const key = createHash('sha256').update(`${host}\n${cpu}\n${machineId}`).digest('hex').slice(0, 24);
  return { key, hostname: host, cpu, cores: cpus().length, memoryKiB: Math.round(totalmem() / 1024), kernel: release() };
}

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parse = <T>(v: unknown): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : null);

/** The results database. All writes of one run happen in one transaction. */
export class Store {
  readonly db: Database.Database;
  private machine: number | undefined;

  constructor(
    readonly path: string,
    readonly readonly = false,
  ) {
    if (readonly && !existsSync(path)) throw usageError(`no results database at ${path}`, 'run a replay first, or pass --db PATH');
    if (!readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
    try {
      this.db = new Database(path, { readonly, fileMustExist: readonly });
      this.db.pragma('busy_timeout = 10000');
      if (!readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
      }
      this.db.pragma('foreign_keys = ON');
    } catch (e) {
      throw inputError(`cannot open results database ${path}: ${(e as Error).message}`, 'pass --db with a SQLite file written by allocreplay');
    }
    if (!readonly) this.migrate();
    else if ((this.db.pragma('user_version', { simple: true }) as number) === 0) {
      throw inputError(`${path} is not an allocreplay results database`, 'pass --db with a file written by allocreplay');
    }
  }

  private migrate(): void {
    const have = this.db.pragma('user_version', { simple: true }) as number;
    if (have > MIGRATIONS.length) {
      throw inputError(`${this.path} has schema version ${have}, newer than this allocreplay (${MIGRATIONS.length})`, 'upgrade allocreplay');
    }
    for (let v = have; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** This machine's row id (created on first use). */
  machineId(): number {
    if (this.machine !== undefined) return this.machine;
    const m = machineFacts();
    this.db
      .prepare(`INSERT OR IGNORE INTO machines (key, hostname, cpu, cores, memory_kib, kernel, first_seen) VALUES (?,?,?,?,?,?,?)`)
      .run(m.key, m.hostname, m.cpu, m.cores, m.memoryKiB, m.kernel, new Date().toISOString());
    this.machine = (this.db.prepare('SELECT id FROM machines WHERE key = ?').get(m.key) as { id: number }).id;
    return this.machine;
  }

  /** One session per CLI invocation. */
  beginSession(argv: string[]): number {
    const r = this.db
      .prepare('INSERT INTO sessions (uuid, machine_id, argv, started) VALUES (?,?,?,?)')
      .run(randomUUID(), this.machineId(), JSON.stringify(argv), new Date().toISOString());
    return Number(r.lastInsertRowid);
  }

  ensureTrace(t: { checksum: string; name: string; path: string; events: number; producer: string }): number {
    this.db.prepare('INSERT OR IGNORE INTO traces (checksum, name, path, events, producer) VALUES (?,?,?,?,?)').run(t.checksum, t.name, t.path, t.events, t.producer);
    return (this.db.prepare('SELECT id FROM traces WHERE checksum = ?').get(t.checksum) as { id: number }).id;
  }

  ensureConfiguration(c: ConfigurationSpec): { id: number; hash: string } {
    const hash = configurationHash(c);
    this.db
      .prepare('INSERT OR IGNORE INTO configurations (hash, target, target_kind, revision, flags, env, options, label) VALUES (?,?,?,?,?,?,?,?)')
      .run(hash, c.target, c.targetKind, c.revision ?? null, JSON.stringify(c.flags), JSON.stringify(c.env), JSON.stringify(c.options), configurationLabel(c));
    return { id: (this.db.prepare('SELECT id FROM configurations WHERE hash = ?').get(hash) as { id: number }).id, hash };
  }

  /** Writes a run, its samples and its profile in ONE transaction. */
  recordRun(r: RunRecord): number {
    const insertRun = this.db.prepare(
      `INSERT INTO runs (uuid, session_id, machine_id, trace_id, configuration_id, build_id, metric, status, error, signal, op_index, allocator_stats, series, checks, created)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    const insertSample = this.db.prepare(
      `INSERT INTO samples (run_id, rep, wall_ns, ns_per_op, user_us, sys_us, max_rss_kib, peak_rss_kib, minor_faults, major_faults, vol_ctx, inv_ctx, instructions, cycles)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    const insertProfile = this.db.prepare('INSERT INTO profiles (run_id, function, file, self_ir, incl_ir) VALUES (?,?,?,?,?)');
    const machine = this.machineId();
    return this.db.transaction(() => {
      const id = Number(
        insertRun.run(randomUUID(), r.sessionId, machine, r.traceId, r.configurationId, r.buildId ?? null, r.metric, r.status, r.error ?? null, r.signal ?? null, r.opIndex ?? null, json(r.allocatorStats), json(r.series), json(r.checks), new Date().toISOString()).lastInsertRowid,
      );
      r.samples.forEach((s, i) => {
        insertSample.run(id, i, Math.round(s.wallNs), s.nsPerOp, s.userUs ?? null, s.sysUs ?? null, s.maxRssKiB ?? null, s.peakRssKiB ?? null, s.minorFaults ?? null, s.majorFaults ?? null, s.volCtxSwitches ?? null, s.invCtxSwitches ?? null, s.instructions ?? null, s.cycles ?? null);
      });
      for (const p of r.profile ?? []) insertProfile.run(id, p.function, p.file ?? null, p.selfIr, p.inclIr);
      return id;
    })();
  }

  /** The newest finished run of (trace, configuration, metric) on this machine, if any. */
  completedRun(traceId: number, configurationId: number, metric: string): RunRow | undefined {
    const row = this.db
      .prepare('SELECT id FROM runs WHERE trace_id = ? AND configuration_id = ? AND metric = ? AND machine_id = ? ORDER BY id DESC LIMIT 1')
      .get(traceId, configurationId, metric, this.machineId()) as { id: number } | undefined;
    return row ? this.runs({ id: row.id })[0] : undefined;
  }

  recordBuild(b: BuildRecord): number {
    const machine = this.machineId();
    this.db
      .prepare(
        `INSERT INTO builds (key, machine_id, target, repo, revision, command, flags, status, artifact, log, duration_ms, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
         ON CONFLICT (key, machine_id) DO UPDATE SET status = excluded.status, artifact = excluded.artifact, log = excluded.log, duration_ms = excluded.duration_ms`,
      )
      .run(b.key, machine, b.target, b.repo ?? null, b.revision ?? null, b.command, JSON.stringify(b.flags), b.status, b.artifact ?? null, b.log, b.durationMs, new Date().toISOString());
    return (this.db.prepare('SELECT id FROM builds WHERE key = ? AND machine_id = ?').get(b.key, machine) as { id: number }).id;
  }

  findBuild(key: string): (BuildRecord & { id: number }) | undefined {
    const r = this.db.prepare('SELECT * FROM builds WHERE key = ? AND machine_id = ?').get(key, this.machineId()) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    return {
      id: r.id as number,
      key,
      target: r.target as string,
      repo: (r.repo as string | null) ?? undefined,
      revision: (r.revision as string | null) ?? undefined,
      command: r.command as string,
      flags: JSON.parse(r.flags as string) as Record<string, string>,
      status: r.status as 'ok' | 'failed',
      artifact: (r.artifact as string | null) ?? undefined,
      log: r.log as string,
      durationMs: r.duration_ms as number,
    };
  }

  /** Runs, newest first, with their trace and configuration. */
  runs(filter: { id?: number; ids?: number[]; limit?: number; session?: number } = {}): RunRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.id !== undefined) where.push('r.id = ?'), args.push(filter.id);
    if (filter.ids) where.push(`r.id IN (${filter.ids.map(() => '?').join(',') || 'NULL'})`), args.push(...filter.ids);
    if (filter.session !== undefined) where.push('r.session_id = ?'), args.push(filter.session);
    const sql = `SELECT r.*, t.name AS trace, t.checksum AS trace_checksum, t.events AS trace_events, c.target, c.target_kind, c.revision, c.hash, c.label, c.flags, c.env, m.hostname
      FROM runs r JOIN traces t ON t.id = r.trace_id JOIN configurations c ON c.id = r.configuration_id JOIN machines m ON m.id = r.machine_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC ${filter.limit ? `LIMIT ${Math.floor(filter.limit)}` : ''}`;
    return (this.db.prepare(sql).all(...args) as Record<string, unknown>[]).map((r) => ({
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
      flags: JSON.parse(r.flags as string) as Record<string, string>,
      env: JSON.parse(r.env as string) as Record<string, string>,
      metric: r.metric as RunRow['metric'],
      status: r.status as RunRow['status'],
      error: r.error as string | null,
      signal: r.signal as string | null,
      opIndex: r.op_index as number | null,
      allocatorStats: parse(r.allocator_stats),
      series: parse(r.series),
      checks: parse(r.checks),
      machine: r.hostname as string,
      created: r.created as string,
    }));
  }

  samples(runId: number): SampleRow[] {
    return (this.db.prepare('SELECT * FROM samples WHERE run_id = ? ORDER BY rep').all(runId) as Record<string, number | null>[]).map((s) => ({
      rep: s.rep as number,
      wallNs: s.wall_ns as number,
      nsPerOp: s.ns_per_op as number,
      peakRssKiB: s.peak_rss_kib,
      maxRssKiB: s.max_rss_kib,
      instructions: s.instructions,
      cycles: s.cycles,
    }));
  }

  /** The bisection with this spec (created when new): the same spec resumes the same bisection. */
  ensureBisection(kind: 'commits' | 'flags', spec: unknown): number {
    const key = createHash('sha256').update(canonical(spec)).digest('hex').slice(0, 32);
    this.db.prepare("INSERT OR IGNORE INTO bisections (key, kind, spec, status, created) VALUES (?,?,?,'running',?)").run(key, kind, JSON.stringify(spec), new Date().toISOString());
    return (this.db.prepare('SELECT id FROM bisections WHERE key = ?').get(key) as { id: number }).id;
  }

  saveBisectionStep(id: number, s: { step: number; probe: string; value: number | null; verdict: string; buildId?: number; runId?: number }): void {
    this.db
      .prepare('INSERT OR REPLACE INTO bisection_steps (bisection_id, step, probe, value, verdict, build_id, run_id) VALUES (?,?,?,?,?,?,?)')
      .run(id, s.step, s.probe, s.value, s.verdict, s.buildId ?? null, s.runId ?? null);
  }

  finishBisection(id: number, result: unknown): void {
    this.db.prepare("UPDATE bisections SET status = 'done', result = ? WHERE id = ?").run(JSON.stringify(result), id);
  }

  bisection(id: number): { kind: string; status: string; spec: unknown; result: unknown; steps: { step: number; probe: string; value: number | null; verdict: string }[] } | undefined {
    const row = this.db.prepare('SELECT * FROM bisections WHERE id = ?').get(id) as Record<string, string> | undefined;
    if (!row) return undefined;
    const steps = this.db.prepare('SELECT step, probe, value, verdict FROM bisection_steps WHERE bisection_id = ? ORDER BY step').all(id) as { step: number; probe: string; value: number | null; verdict: string }[];
    return { kind: row.kind!, status: row.status!, spec: JSON.parse(row.spec!), result: row.result ? JSON.parse(row.result) : null, steps };
  }

  /** Runs a statement on a read-only connection and returns its rows. */
  query(sql: string): Record<string, unknown>[] {
    if (!this.readonly) throw failure('query needs a read-only store', 'open the store with { readonly: true }');
    try {
      const st = this.db.prepare(sql);
      if (!st.reader) throw usageError('db query runs read-only statements only', 'use SELECT (the results database is never changed by a query)');
      return st.all() as Record<string, unknown>[];
    } catch (e) {
      if (e instanceof Error && e.name === 'AllocreplayError') throw e;
      throw usageError(`query failed: ${(e as Error).message}`, 'check the SQL; `db query "SELECT name FROM sqlite_master"` lists the tables');
    }
  }

  close(): void {
    this.db.close();
  }
}

/** Opens (creating and migrating, unless read-only) a results database. */
export function openStore(path: string, opts: { readonly?: boolean } = {}): Store {
  return new Store(path, opts.readonly ?? false);
}

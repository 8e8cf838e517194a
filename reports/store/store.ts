import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { BUILD_STATUSES, failure, inputError, type Metric, METRICS, RUN_STATUSES, usageError, wordOf } from '../../traces/index.js';
import { canonicalJson, type Configuration, configurationHash, configurationLabel } from '../identity/index.js';
import { MIGRATIONS } from './schema.js';
import { type BuildRecord, type RunHead, type RunRecord, type RunRow, type SampleRecord, sampleRow, type SampleRow, type StoredState } from './rows.js';

import { ensureMachineIdentity } from './machine.js';

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
  // ALLOCREPLAY_HOST names the machine where the hostname does not (containers: a Kubernetes pod takes its node's name).
  const host = process.env.ALLOCREPLAY_HOST || hostname();
  const key = createHash('sha256').update(`${host}\n${cpu}\n${machineId}`).digest('hex').slice(0, 24);
  return { key, hostname: host, cpu, cores: cpus().length, memoryKiB: Math.round(totalmem() / 1024), kernel: release() };
}

/** This machine's stable key: part of every configuration measured here. */
export function machineKey(): string {
  return machineFacts().key;
}

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parse = <T>(v: unknown): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : null);

/** A claim is stale when its process is gone from this machine or it stopped beating. */
function claimIsStale(pid: number, heartbeat: number, staleMs: number): boolean {
  if (Date.now() - heartbeat > staleMs) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}


/** The results database. All writes of one run happen in one transaction. */
/**
 * Switches a database to WAL. The switch needs the database to itself and
 * SQLite does not wait for it (busy_timeout does not apply), so processes
 * opening a new database at the same moment retry for up to 10 s.
 */
function walMode(db: Database.Database): void {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      if (db.pragma('journal_mode', { simple: true }) === 'wal') return;
      db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > until) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

export class Store {
  readonly db: Database.Database;
  private machine: number | undefined;
  private identity: number | undefined;

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
        walMode(this.db);
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
    if (have === MIGRATIONS.length) return;
    // Migrations rebuild tables that others reference: foreign keys are checked once, after.
    this.db.pragma('foreign_keys = OFF');
    try {
      // Each step re-reads the version under the write lock, so processes that
      // open a new database at once migrate it once, not once each.
      const step = this.db.transaction((): boolean => {
        const v = this.db.pragma('user_version', { simple: true }) as number;
        if (v >= MIGRATIONS.length) return false;
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
        return true;
      });
      while (step.immediate()) {
        // next migration
      }
    } finally {
      this.db.pragma('foreign_keys = ON');
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

  /** The row of what this process measures with (machine_identities; created on first use). */
  machineIdentityId(): number {
    this.identity ??= ensureMachineIdentity(this.db, this.machineId(), machineKey());
    return this.identity;
  }

  /** One session per CLI invocation. */
  beginSession(argv: string[]): number {
    const r = this.db
      .prepare('INSERT INTO sessions (uuid, machine_id, argv, started) VALUES (?,?,?,?)')
      .run(randomUUID(), this.machineId(), JSON.stringify(argv), new Date().toISOString());
    return Number(r.lastInsertRowid);
  }

  /**
   * The row of a trace (or of a live run's program: `producer` 'live'),
   * created on first use. `program` is the hash of the program it ran, with
   * its identity as JSON; a row stored before it was known gets it now.
   */
  ensureTrace(t: { checksum: string; name: string; path: string; events: number; producer: string; program?: { hash: string; identity: unknown } }): number {
    this.db
      .prepare('INSERT OR IGNORE INTO traces (checksum, name, path, events, producer, program, program_identity) VALUES (?,?,?,?,?,?,?)')
      .run(t.checksum, t.name, t.path, t.events, t.producer, t.program?.hash ?? null, t.program ? JSON.stringify(t.program.identity) : null);
    if (t.program) this.db.prepare('UPDATE traces SET program = ?, program_identity = ? WHERE checksum = ? AND program IS NULL').run(t.program.hash, JSON.stringify(t.program.identity), t.checksum);
    return (this.db.prepare('SELECT id FROM traces WHERE checksum = ?').get(t.checksum) as { id: number }).id;
  }

  ensureConfiguration(c: Configuration): { id: number; hash: string } {
    const hash = configurationHash(c);
    this.db
      .prepare('INSERT OR IGNORE INTO configurations (hash, target, target_kind, revision, flags, env, options, label, identity) VALUES (?,?,?,?,?,?,?,?,?)')
      .run(hash, c.name, c.target.kind, c.revision, JSON.stringify(c.flags), JSON.stringify(c.env), JSON.stringify(c.options), configurationLabel(c), JSON.stringify(c));
    return { id: (this.db.prepare('SELECT id FROM configurations WHERE hash = ?').get(hash) as { id: number }).id, hash };
  }

  /** Starts a run (no samples yet); its samples follow one transaction each. */
  openRun(r: RunHead): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO runs (uuid, session_id, machine_id, machine_identity_id, trace_id, configuration_id, build_id, metric, status, error, signal, op_index, allocator_stats, series, checks, stderr_tail, created)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
        )
        .run(randomUUID(), r.sessionId, this.machineId(), this.machineIdentityId(), r.traceId, r.configurationId, r.buildId ?? null, r.metric, r.status, r.error ?? null, r.signal ?? null, r.opIndex ?? null, json(r.allocatorStats), json(r.series), json(r.checks), json(r.stderrTail), new Date().toISOString()).lastInsertRowid,
    );
  }

  /** Adds one repetition's figures to a run (its own transaction: a kill loses at most the one in progress). */
  appendSample(runId: number, s: SampleRecord): void {
    this.db
      .prepare(
        `INSERT INTO samples (run_id, rep, wall_ns, ns_per_op, user_us, sys_us, max_rss_kib, peak_rss_kib, minor_faults, major_faults, vol_ctx, inv_ctx, instructions, cycles, rss_base_kib)
         VALUES (?, (SELECT COUNT(*) FROM samples WHERE run_id = ?), ?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      )
      .run(runId, runId, Math.round(s.wallNs), s.nsPerOp, s.userUs ?? null, s.sysUs ?? null, s.maxRssKiB ?? null, s.peakRssKiB ?? null, s.minorFaults ?? null, s.majorFaults ?? null, s.volCtxSwitches ?? null, s.invCtxSwitches ?? null, s.instructions ?? null, s.cycles ?? null, s.rssBaseKiB ?? null);
  }

  /** Updates how a run ended and what it saw (fields left undefined stay as they are). */
  updateRun(runId: number, r: Partial<Pick<RunHead, 'status' | 'error' | 'signal' | 'opIndex' | 'allocatorStats' | 'series' | 'checks' | 'stderrTail'>>): void {
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
    if (sets.length) this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, runId);
  }

  /** Writes a whole run, its samples and its profile in ONE transaction. */
  recordRun(r: RunRecord): number {
    const insertProfile = this.db.prepare('INSERT INTO profiles (run_id, function, file, self_ir, incl_ir) VALUES (?,?,?,?,?)');
    return this.db.transaction(() => {
      const { samples, profile, ...head } = r;
      const id = this.openRun(head);
      for (const s of samples) this.appendSample(id, s);
      for (const p of profile ?? []) insertProfile.run(id, p.function, p.file ?? null, p.selfIr, p.inclIr);
      return id;
    })();
  }

  /** How (trace, configuration, metric) stands on this machine: ok samples so far, and the newest run. */
  storedState(traceId: number, configurationId: number, metric: Metric): StoredState {
    const machine = this.machineId();
    const ok = this.db
      .prepare(`SELECT COUNT(*) AS n FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.trace_id = ? AND r.configuration_id = ? AND r.metric = ? AND r.machine_id = ? AND r.status = 'ok'`)
      .get(traceId, configurationId, metric, machine) as { n: number };
    const last = this.db
      .prepare('SELECT id FROM runs WHERE trace_id = ? AND configuration_id = ? AND metric = ? AND machine_id = ? ORDER BY id DESC LIMIT 1')
      .get(traceId, configurationId, metric, machine) as { id: number } | undefined;
    return { okSamples: ok.n, latest: last ? this.runs({ id: last.id })[0] : undefined };
  }

  /** Ok runs of (trace, configuration, metric) on this machine, oldest first. */
  okRuns(traceId: number, configurationId: number, metric: Metric): RunRow[] {
    const ids = (
      this.db
        .prepare(`SELECT id FROM runs WHERE trace_id = ? AND configuration_id = ? AND metric = ? AND machine_id = ? AND status = 'ok' ORDER BY id`)
        .all(traceId, configurationId, metric, this.machineId()) as { id: number }[]
    ).map((r) => r.id);
    return ids.length ? this.runs({ ids }).reverse() : [];
  }

  /**
   * The newest run of (trace, configuration, metric) on this machine that
   * ended ok with at least `repeat` samples, if any.
   */
  completedRun(traceId: number, configurationId: number, metric: Metric, repeat = 1): RunRow | undefined {
    const st = this.storedState(traceId, configurationId, metric);
    if (!st.latest || st.latest.status !== 'ok' || st.okSamples < repeat) return undefined;
    return st.latest;
  }

  /**
   * Claims (trace, configuration, metric) on this machine for `owner`, so
   * that concurrent processes never measure it twice. A claim whose owner is
   * gone (its pid is dead here, or its heartbeat older than `staleMs`) is
   * taken over. Returns false while another live process holds it.
   */
  claim(traceId: number, configurationId: number, metric: Metric, owner: string, staleMs = 60_000): boolean {
    const machine = this.machineId();
    return this.db.transaction((): boolean => {
      const held = this.db.prepare('SELECT owner, pid, heartbeat FROM claims WHERE trace_id = ? AND configuration_id = ? AND metric = ? AND machine_id = ?').get(traceId, configurationId, metric, machine) as
        | { owner: string; pid: number; heartbeat: number }
        | undefined;
      if (held && held.owner !== owner && !claimIsStale(held.pid, held.heartbeat, staleMs)) return false;
      this.db
        .prepare('INSERT OR REPLACE INTO claims (trace_id, configuration_id, metric, machine_id, owner, pid, heartbeat) VALUES (?,?,?,?,?,?,?)')
        .run(traceId, configurationId, metric, machine, owner, process.pid, Date.now());
      return true;
    }).immediate();
  }

  /** Keeps `owner`'s claims alive. */
  heartbeat(owner: string): void {
    this.db.prepare('UPDATE claims SET heartbeat = ? WHERE owner = ?').run(Date.now(), owner);
  }

  /** Gives up a claim (or all of `owner`'s). */
  release(owner: string, traceId?: number, configurationId?: number, metric?: Metric): void {
    if (traceId === undefined) this.db.prepare('DELETE FROM claims WHERE owner = ?').run(owner);
    else this.db.prepare('DELETE FROM claims WHERE owner = ? AND trace_id = ? AND configuration_id = ? AND metric = ?').run(owner, traceId, configurationId, metric);
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
      status: wordOf(BUILD_STATUSES, r.status, `build ${key}'s status`),
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
    const sql = `SELECT r.*, t.name AS trace, t.checksum AS trace_checksum, t.events AS trace_events, c.target, c.target_kind, c.revision, c.hash, c.label, c.flags, c.env, c.identity, m.hostname
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

  samples(runId: number): SampleRow[] {
    return (this.db.prepare('SELECT * FROM samples WHERE run_id = ? ORDER BY rep').all(runId) as Record<string, number | null>[]).map(sampleRow);
  }

  /** The bisection with this spec (created when new): the same spec resumes the same bisection. */
  ensureBisection(kind: 'commits' | 'flags', spec: unknown): number {
    const key = createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 32);
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

/**
 * The results database as one object: a connection (connection.ts) and
 * the operations on it, each kept with its own concern — the rows a run
 * points at (catalog.ts), runs and samples (runs.ts), builds, claims,
 * bisections, read-only queries — and this machine's rows, which every
 * write names.
 */
import type Database from 'better-sqlite3';
import { failure } from '../../traces/index.js';
import type { Metric } from '../../traces/index.js';
import type { Configuration } from '../identity/index.js';
import { ensureBisection, finishBisection, loadBisection, saveBisectionStep, type StoredBisection } from './bisections.js';
import { findBuild, recordBuild } from './builds.js';
import { beginSession, ensureConfiguration, ensureTrace, type TraceEntry } from './catalog.js';
import { claim, heartbeat, release } from './claims.js';
import { openDatabase } from './connection.js';
import { ensureMachineIdentity, machineFacts, machineKey } from './machine.js';
import { readOnlyQuery } from './query.js';
import type { BuildRecord, RunHead, RunRecord, RunRow, SampleRecord, SampleRow, StoredState } from './rows.js';
import { appendSample, type MeasuredOn, okRuns, openRun, readRuns, readSamples, recordRun, type RunFilter, type RunUpdate, storedState, updateRun } from './runs.js';

/** The results database. All writes of one run happen in one transaction. */
export class Store {
  readonly db: Database.Database;
  private machine: number | undefined;
  private identity: number | undefined;

  constructor(
    readonly path: string,
    readonly readonly = false,
  ) {
    this.db = openDatabase(path, readonly);
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

  private measuredOn(): MeasuredOn {
    return { machine: this.machineId(), identity: this.machineIdentityId() };
  }

  /** One session per CLI invocation. */
  beginSession(argv: string[]): number {
    return beginSession(this.db, this.machineId(), argv);
  }

  /**
   * The row of a trace (or of a live run's program: `producer` 'live'),
   * created on first use. `program` is the hash of the program it ran, with
   * its identity as JSON; a row stored before it was known gets it now.
   */
  ensureTrace(t: TraceEntry): number {
    return ensureTrace(this.db, t);
  }

  ensureConfiguration(c: Configuration): { id: number; hash: string } {
    return ensureConfiguration(this.db, c);
  }

  /** Starts a run (no samples yet); its samples follow one transaction each. */
  openRun(r: RunHead): number {
    return openRun(this.db, this.measuredOn(), r);
  }

  /** Adds one repetition's figures to a run (its own transaction: a kill loses at most the one in progress). */
  appendSample(runId: number, s: SampleRecord): void {
    appendSample(this.db, runId, s);
  }

  /** Updates how a run ended and what it saw (fields left undefined stay as they are). */
  updateRun(runId: number, r: RunUpdate): void {
    updateRun(this.db, runId, r);
  }

  /** Writes a whole run, its samples and its profile in ONE transaction. */
  recordRun(r: RunRecord): number {
    return recordRun(this.db, this.measuredOn(), r);
  }

  /** How (trace, configuration, metric) stands on this machine: ok samples so far, and the newest run. */
  storedState(traceId: number, configurationId: number, metric: Metric): StoredState {
    return storedState(this.db, this.machineId(), traceId, configurationId, metric);
  }

  /** Ok runs of (trace, configuration, metric) on this machine, oldest first. */
  okRuns(traceId: number, configurationId: number, metric: Metric): RunRow[] {
    return okRuns(this.db, this.machineId(), traceId, configurationId, metric);
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
    return claim(this.db, this.machineId(), traceId, configurationId, metric, owner, staleMs);
  }

  /** Keeps `owner`'s claims alive. */
  heartbeat(owner: string): void {
    heartbeat(this.db, owner);
  }

  /** Gives up a claim (or all of `owner`'s). */
  release(owner: string, traceId?: number, configurationId?: number, metric?: Metric): void {
    release(this.db, owner, traceId, configurationId, metric);
  }

  recordBuild(b: BuildRecord): number {
    return recordBuild(this.db, this.machineId(), b);
  }

  findBuild(key: string): (BuildRecord & { id: number }) | undefined {
    return findBuild(this.db, this.machineId(), key);
  }

  /** Runs, newest first, with their trace and configuration. */
  runs(filter: RunFilter = {}): RunRow[] {
    return readRuns(this.db, filter);
  }

  samples(runId: number): SampleRow[] {
    return readSamples(this.db, runId);
  }

  /** The bisection with this spec (created when new): the same spec resumes the same bisection. */
  ensureBisection(kind: 'commits' | 'flags', spec: unknown): number {
    return ensureBisection(this.db, kind, spec);
  }

  saveBisectionStep(id: number, s: { step: number; probe: string; value: number | null; verdict: string; buildId?: number; runId?: number }): void {
    saveBisectionStep(this.db, id, s);
  }

  finishBisection(id: number, result: unknown): void {
    finishBisection(this.db, id, result);
  }

  bisection(id: number): StoredBisection | undefined {
    return loadBisection(this.db, id);
  }

  /** Runs a statement on a read-only connection and returns its rows. */
  query(sql: string): Record<string, unknown>[] {
    if (!this.readonly) throw failure('query needs a read-only store', 'open the store with { readonly: true }');
    return readOnlyQuery(this.db, sql);
  }

  close(): void {
    this.db.close();
  }
}

/** Opens (creating and migrating, unless read-only) a results database. */
export function openStore(path: string, opts: { readonly?: boolean } = {}): Store {
  return new Store(path, opts.readonly ?? false);
}

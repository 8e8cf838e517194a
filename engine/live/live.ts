/**
 * Live runs: the recorded program itself, run under a target, measured as
 * a replay is (wall, CPU, peak RSS, page faults), so a replay's prediction
 * can be checked against what it predicts. One process per repetition
 * (engine/native/live.c launches and times it); repetitions go round-robin
 * across targets (A B C A B C …) so machine drift spreads evenly.
 *
 * A live run's workload is the program (argv, cwd, binary hash, the
 * environment variables that matter): it is stored in place of a trace, one
 * row per program (`producer` 'live', one "op" per run, so ns/op is the
 * program's wall time), and its configuration is the target's with mode
 * `live`, so `mode=live` selects live runs in every report.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { labelConfigurations, mad, median, type Store } from '../../reports/index.js';
import { compileNative, failure, killAfter, killGroup, onInterrupt, packagePath, type ProgramIdentity, programHash, programName, type RunStatus } from '../../traces/index.js';
import { type RunResult, type SampleFigures, signalName, stderrTail } from '../driver/index.js';
import { configurationOf, type ReadyTarget } from '../identity/index.js';
import { type Outcome, planTrace, readyTargets, type TargetsSpec } from '../runner/index.js';
import type { Target } from '../targets/index.js';

/** How live runs are repeated and bounded. */
export interface LiveOptions {
  /** Measured runs per target. */
  repeat: number;
  /** Unmeasured runs per target first (page cache, dynamic loader). */
  warmup: number;
  /** A run is killed after this long: status `timeout`. */
  timeoutMs: number;
  /** The exit status of a run that went as recorded (0 unless told). */
  expectExit: number;
}

/** The launcher, compiled on first use and cached. */
export function liveRunnerPath(): string {
  return compileNative({ name: 'live-runner', sources: [packagePath('engine', 'native', 'live.c')] });
}

interface LauncherOutput {
  /** How the launcher (engine/native/live.c) says the run ended: three of the run statuses. */
  status: Extract<RunStatus, 'ok' | 'timeout' | 'failed'>;
  error?: string;
  exit?: number;
  signal?: number;
  wall_ns?: number;
  user_us?: number;
  sys_us?: number;
  maxrss_kib?: number;
  minflt?: number;
  majflt?: number;
  nvcsw?: number;
  nivcsw?: number;
}

const FIGURES = ['wall_ns', 'user_us', 'sys_us', 'maxrss_kib', 'minflt', 'majflt', 'nvcsw', 'nivcsw'] as const;

/** Checks that the binary is the one the identity names: a rebuilt or upgraded program is another program. */
export function checkBinary(program: ProgramIdentity): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(program.binary);
  } catch (e) {
    throw failure(`cannot run ${program.binary}: ${(e as Error).message}`, 'the recorded program is gone; record it again where it is installed');
  }
  if (createHash('sha256').update(bytes).digest('hex') !== program.sha256) {
    throw failure(`${program.binary} is not the binary that was recorded (its sha256 differs)`, 'record the program again, so that replays and live runs are of one program');
  }
}

/** The environment of a live run: ours without any preload, then the program's variables, then the target's. */
function liveEnv(program: ProgramIdentity, target: Target): Record<string, string> {
  const env: Record<string, string> = {};
  // The recorder's and the launcher's own variables never reach the program.
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'LD_PRELOAD' && !k.startsWith('ALLOCREPLAY_RECORD_') && k !== 'ALLOCREPLAY_LIVE_PRELOAD') env[k] = v;
  Object.assign(env, program.env, target.env);
  if (target.library) env.ALLOCREPLAY_LIVE_PRELOAD = target.library;
  return env;
}

/** One run of the program: how it ended, its figures when it went as recorded, and its exit. */
export interface LiveResult extends Pick<RunResult, 'status' | 'error' | 'signal' | 'samples' | 'stderrTail'> {
  /** The program's exit status (-1 when a signal ended it) and the signal's number (0 for none); absent when it never ran. */
  exit?: { status: number; signal: number };
}

/**
 * Runs the program once under a target. Never throws for what the program
 * or the allocator does: a crash, a hang, a wrong exit status is a result.
 */
export async function runLive(program: ProgramIdentity, target: Target, opts: Pick<LiveOptions, 'timeoutMs' | 'expectExit'>): Promise<LiveResult> {
  const work = mkdtempSync(join(tmpdir(), 'allocreplay-live-'));
  const errFile = join(work, 'stderr');
  const args = ['3', String(opts.timeoutMs), '/dev/null', errFile, '--', program.binary, ...program.argv];
  // The launcher kills the program itself at the limit; this one is for a launcher that hangs.
  const child = spawn(liveRunnerPath(), args, { cwd: program.cwd, env: liveEnv(program, target), stdio: ['ignore', 'ignore', 'pipe', 'pipe'], detached: true });
  const undo = onInterrupt(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });
  const chunks: Buffer[] = [];
  (child.stdio[3] as Readable).on('data', (d: Buffer) => chunks.push(d));
  let launcherErr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (launcherErr = (launcherErr + d).slice(-4096)));
  const limit = killAfter(child, opts.timeoutMs + 10_000);
  const exit = await new Promise<{ code: number | null; error?: Error }>((res) => {
    child.on('error', (error) => res({ code: null, error }));
    child.on('close', (code) => res({ code }));
  });
  limit.cancel();
  let programErr = '';
  try {
    programErr = readFileSync(errFile, 'utf8').slice(-8192);
  } catch {
    // the program never started
  }
  rmSync(work, { recursive: true, force: true });
  undo();
  const out: LiveResult = { status: 'failed', samples: [] };
  let o: LauncherOutput | undefined;
  try {
    o = JSON.parse(Buffer.concat(chunks).toString('utf8').trim().split('\n').at(-1) ?? '') as LauncherOutput;
  } catch {
    o = undefined;
  }
  if (exit.error || !o || typeof o !== 'object') {
    if (limit.timedOut()) killGroup(child);
    out.error = exit.error ? `cannot start the live launcher: ${exit.error.message}` : `the live launcher printed no result (exit ${exit.code})${launcherErr ? `: ${launcherErr.trim().split('\n').at(-1)}` : ''}`;
    return out;
  }
  if (o.status === 'failed') {
    out.error = o.error ?? 'the live launcher failed';
    return out;
  }
  if (!FIGURES.every((f) => typeof o[f] === 'number' && Number.isFinite(o[f]))) {
    out.error = "the live launcher's figures are malformed";
    return out;
  }
  const sample: SampleFigures = {
    wallNs: o.wall_ns!,
    nsPerOp: o.wall_ns!,
    userUs: o.user_us!,
    sysUs: o.sys_us!,
    maxRssKiB: o.maxrss_kib!,
    peakRssKiB: o.maxrss_kib!,
    minorFaults: o.minflt!,
    majorFaults: o.majflt!,
    volCtxSwitches: o.nvcsw!,
    invCtxSwitches: o.nivcsw!,
  };
  out.exit = { status: o.exit ?? -1, signal: o.signal ?? 0 };
  if (o.status === 'timeout') {
    out.status = 'timeout';
    out.error = `killed after ${opts.timeoutMs / 1000} s`;
  } else if (o.signal) {
    out.status = 'crashed';
    out.signal = signalName(o.signal);
    out.error = `the program ended by ${out.signal}`;
  } else if (o.exit !== opts.expectExit) {
    out.error = `the program exited with status ${o.exit} (expected ${opts.expectExit})`;
  } else {
    out.status = 'ok';
    out.samples = [sample];
  }
  if (out.status !== 'ok') {
    const lines = stderrTail(programErr);
    if (lines.length) out.stderrTail = lines;
  }
  return out;
}

/** What `allocreplay live` asks for: one program under targets. */
export interface LiveSpec extends TargetsSpec {
  program: ProgramIdentity;
  options: LiveOptions;
}

export interface LiveHooks {
  onLog?: (line: string) => void;
  /** How many runs will be made in all (warm-up included). */
  onTotal?: (runs: number) => void;
  onStart?: (label: string, round: number) => void;
}

/** The store's row for a program's live runs: its identity stands where a trace would. */
export function programWorkload(store: Store, program: ProgramIdentity): { traceId: number; name: string; hash: string } {
  const hash = programHash(program);
  const name = programName(program);
  const traceId = store.ensureTrace({ checksum: `program:${hash}`, name, path: program.binary, events: 1, producer: 'live', program: { hash, identity: program } });
  return { traceId, name, hash };
}

interface LiveJob {
  ready: ReadyTarget;
  configurationId: number;
  configHash: string;
  configuration: Outcome['configuration'];
  label: string;
  runId?: number;
  done: boolean;
}

/**
 * Runs the program under every target, `warmup` unmeasured then `repeat`
 * measured runs each, round-robin, storing each measured run as it ends (a
 * kill loses at most the one in progress). A target whose build failed, or
 * whose run does not go as recorded, is stored as that failure and not run
 * again. Returns one outcome per target (ns/op is the program's wall time).
 */
export async function liveRuns(store: Store, session: number, spec: LiveSpec, hooks: LiveHooks = {}): Promise<{ outcomes: Outcome[]; ready: ReadyTarget[]; workload: string }> {
  checkBinary(spec.program);
  const workload = programWorkload(store, spec.program);
  const pgo = spec.pgo?.length ? { training: spec.pgo.map((t) => planTrace(store, t)), replay: { mode: 'serial' as const, touch: 'none' as const, timeoutMs: spec.options.timeoutMs } } : undefined;
  const ready = await readyTargets(store, spec.targets, spec.set, spec.env, hooks.onLog, spec.config, { dirty: spec.dirty, ...(pgo ? { pgo } : {}) });
  const jobs = new Map<string, LiveJob>();
  for (const r of ready) {
    const configuration = configurationOf(r, { mode: 'live', touch: 'none', warmup: spec.options.warmup });
    const { id, hash } = store.ensureConfiguration(configuration);
    if (!jobs.has(hash)) jobs.set(hash, { ready: r, configurationId: id, configHash: hash, configuration, label: '', done: false });
  }
  const list = [...jobs.values()];
  const labels = labelConfigurations(list.map((j) => j.configuration));
  list.forEach((j, i) => (j.label = labels[i]!));
  const head = (j: LiveJob) => ({ sessionId: session, traceId: workload.traceId, configurationId: j.configurationId, ...(j.ready.buildId !== undefined ? { buildId: j.ready.buildId } : {}), metric: 'time' as const });
  const storeRun = (j: LiveJob, r: LiveResult): void => {
    const exit = r.exit ? { checks: { exitStatus: r.exit.status, exitSignal: r.exit.signal } } : {};
    if (r.status !== 'ok') {
      const end = { status: r.status, ...(r.error ? { error: r.error } : {}), ...(r.signal ? { signal: r.signal } : {}), ...(r.stderrTail ? { stderrTail: r.stderrTail } : {}), ...exit };
      if (j.runId === undefined) j.runId = store.openRun({ ...head(j), ...end });
      else store.updateRun(j.runId, end);
      j.done = true;
      return;
    }
    store.db.transaction(() => {
      j.runId ??= store.openRun({ ...head(j), status: 'ok', ...exit });
      for (const s of r.samples) store.appendSample(j.runId, s);
    })();
  };
  for (const j of list) if (j.ready.buildError) storeRun(j, { status: 'failed', error: `build failed: ${j.ready.buildError}${j.ready.buildLog ? ` (log: ${j.ready.buildLog})` : ''}`, samples: [] });
  const { warmup, repeat } = spec.options;
  hooks.onTotal?.(list.filter((j) => !j.done).length * (warmup + repeat));
  const samples = new Map<LiveJob, SampleFigures[]>(list.map((j) => [j, []]));
  for (let round = 0; round < warmup + repeat; round++) {
    for (const j of list) {
      if (j.done) continue;
      hooks.onStart?.(j.label, round);
      const r = await runLive(spec.program, j.ready.target, spec.options);
      // A warm-up run that fails is a failure all the same: the target cannot run the program.
      if (round < warmup && r.status === 'ok') continue;
      storeRun(j, r);
      if (r.status === 'ok') samples.get(j)!.push(...r.samples);
    }
  }
  const outcomes = list.map((j): Outcome => {
    const run = j.runId !== undefined ? store.runs({ id: j.runId })[0] : undefined;
    const got = samples.get(j)!;
    const ok = run?.status === 'ok' && got.length > 0;
    const wall = got.map((s) => s.wallNs);
    return {
      trace: workload.name,
      target: j.ready.target.name,
      label: j.label,
      configHash: j.configHash,
      configuration: j.configuration,
      status: run?.status ?? 'failed',
      runId: j.runId,
      skipped: false,
      samples: ok ? got : [],
      nsPerOp: ok ? median(wall) : undefined,
      nsPerOpSpread: ok ? mad(wall) : undefined,
      instructions: undefined,
      peakRssKiB: ok ? Math.max(...got.map((s) => s.maxRssKiB)) : undefined,
      allocatorStats: undefined,
      ...(run?.error ? { error: run.error } : {}),
      ...(run?.signal ? { signal: run.signal } : {}),
      ...(run?.stderrTail?.length ? { stderrTail: run.stderrTail } : {}),
    };
  });
  return { outcomes, ready, workload: workload.name };
}

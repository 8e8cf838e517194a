import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { compileNative, killAfter, killGroup, type NativeBuild, onInterrupt, packagePath } from '../../traces/index.js';
import { type Plan, SERIES_SAMPLES } from '../plan/index.js';
import type { Target } from '../targets/index.js';

import type { Metric, RunStatus } from '../../reports/index.js';

export type ReplayMode = 'serial' | 'threads';
export type TouchMode = 'none' | 'first' | 'all' | 'program';
/** `none`: calls back to back; `recorded`: the program's work between calls, in proportion to the recorded time (engine/native/pace.h). */
export type PaceMode = 'none' | 'recorded';

/** Work units (one cache line of a live block each) per recorded µs when pace=recorded and no scale is given. */
export const DEFAULT_PACE_SCALE = 20;

export interface ReplayOptions {
  mode: ReplayMode;
  /** none; first byte; all of it; program: all of it up to 1 MiB on allocation, the first byte read again before free. */
  touch: TouchMode;
  /** Default `none`. A trace without recorded time replays as `none` whatever this says. */
  pace?: PaceMode;
  /** Work units per recorded µs (pace=recorded only); default DEFAULT_PACE_SCALE. */
  paceScale?: number;
  /** Options the user left to allocreplay: recorded traces take RECORDED_REPLAY's values for them (engine/runner). */
  auto?: readonly ('touch' | 'pace')[];
  /** Measured repetitions (metric time; instructions always measure one). */
  repeat: number;
  /** Untimed repetitions before the measured ones. */
  warmup: number;
  metric: Metric;
  /** The whole process is killed after this long: status `timeout`. */
  timeoutMs: number;
  /** Run the driver's debug build, which checks its invariants (for tests; it measures the same, a little slower). */
  debugDriver?: boolean;
}

/** Figures of one measured repetition. */
export interface SampleFigures {
  wallNs: number;
  nsPerOp: number;
  userUs: number;
  sysUs: number;
  maxRssKiB: number;
  peakRssKiB: number;
  minorFaults: number;
  majorFaults: number;
  volCtxSwitches: number;
  invCtxSwitches: number;
  /** Exact count of the timed region under callgrind, or perf's count. */
  instructions?: number;
  cycles?: number;
  /** The driver's own RSS before the allocator served anything; peak − base is the allocator's growth. */
  rssBaseKiB?: number;
}

export interface ReplayChecks {
  nulls: number;
  misaligned: number;
  shortUsable: number;
  leaked: number;
  doubleFreed: number;
}

export interface RunResult {
  status: RunStatus;
  error?: string;
  signal?: string;
  opIndex?: number;
  samples: SampleFigures[];
  allocatorStats?: Record<string, number>;
  /** Live bytes (from the plan) vs sampled RSS growth (above the driver's own) over the first measured repetition. */
  series?: { op: number; liveBytes: number; rssKiB: number }[];
  checks?: ReplayChecks;
  /** The last lines the allocator (or valgrind) wrote to stderr, for a run that did not end ok. */
  stderrTail?: string[];
  /** The callgrind output of an instructions run, for per-function attribution (caller deletes). */
  profilePath?: string;
}

/**
 * How the driver is compiled: its sources, the headers they include, and where from.
 * `debug` builds it with AR_DEBUG, which checks its stated invariants (engine/native/ar_assert.h).
 */
export function driverBuild(debug = false): NativeBuild {
  const dir = packagePath('engine', 'native');
  const shared = packagePath('traces', 'native');
  const vendor = join(dir, 'vendor');
  return {
    name: debug ? 'replay-debug' : 'replay',
    sources: ['replay.c', 'args.c', 'crash.c', 'counters.c', 'serial.c', 'threads.c', 'report.c', 'plan.c', 'stream.c', 'pace.c', 'serial_model.c'].map((f) => join(dir, f)),
    deps: [join(dir, 'driver.h'), join(dir, 'plan.h'), join(dir, 'pace.h'), join(dir, 'ar_assert.h'), join(shared, 'ar_text.h'), join(vendor, 'valgrind', 'valgrind.h'), join(vendor, 'valgrind', 'callgrind.h')],
    // The vendored valgrind headers: replay builds without valgrind's development files.
    cflags: [`-I${vendor}`, `-I${shared}`, ...(debug ? ['-DAR_DEBUG'] : [])],
    ldflags: ['-lpthread'],
  };
}

/** The driver binary (`debug`: the build that checks its invariants), compiled on first use and cached. */
export function driverPath(debug = false): string {
  return compileNative(driverBuild(debug));
}

interface DriverRep {
  wall_ns: number;
  user_us: number;
  sys_us: number;
  maxrss_kib: number;
  peak_rss_kib: number;
  minflt: number;
  majflt: number;
  nvcsw: number;
  nivcsw: number;
  instructions: number;
  cycles: number;
}

interface DriverOutput {
  status: 'ok' | 'crashed' | 'failed';
  error?: string;
  signal?: number;
  op?: number;
  reps?: DriverRep[];
  checks?: { nulls: number; misaligned: number; short_usable: number; leaked: number; double_freed: number };
  series?: [number, number][];
  rss_base_kib?: number;
}

const REP_FIELDS = ['wall_ns', 'user_us', 'sys_us', 'maxrss_kib', 'peak_rss_kib', 'minflt', 'majflt', 'nvcsw', 'nivcsw', 'instructions', 'cycles'] as const;
const CHECK_FIELDS = ['nulls', 'misaligned', 'short_usable', 'leaked', 'double_freed'] as const;

/**
 * The driver's last output line, checked at the boundary: every field an ok
 * result needs is there with its type, so a malformed line is a `failed` run
 * naming what is wrong, never a TypeError further on. A string is the reason.
 */
export function parseDriverOutput(line: string | undefined): DriverOutput | string {
  if (!line) return 'the driver printed no result';
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return `the driver's result is not JSON: ${line.slice(0, 80)}`;
  }
  const o = v as Record<string, unknown>;
  const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  if (typeof v !== 'object' || v === null || !['ok', 'crashed', 'failed'].includes(o.status as string)) return `the driver's result has no known status: ${line.slice(0, 80)}`;
  if (o.status === 'crashed' && !(isNum(o.signal) && isNum(o.op))) return "the driver's crash report lacks its signal or op";
  if (o.status === 'ok') {
    if (!Array.isArray(o.reps) || !o.reps.every((r) => typeof r === 'object' && r !== null && REP_FIELDS.every((f) => isNum((r as Record<string, unknown>)[f])))) return "the driver's repetitions are malformed";
    const c = o.checks as Record<string, unknown> | undefined;
    if (typeof c !== 'object' || c === null || !CHECK_FIELDS.every((f) => isNum(c[f]))) return "the driver's checks are malformed";
    if (o.series !== undefined && !(Array.isArray(o.series) && o.series.every((p) => Array.isArray(p) && p.length === 2 && p.every(isNum)))) return "the driver's RSS series is malformed";
    if (o.rss_base_kib !== undefined && !isNum(o.rss_base_kib)) return "the driver's RSS baseline is malformed";
  }
  return v as DriverOutput;
}

/** A signal's name (`SIGSEGV`), or `signal N` for one Node does not name. */
export function signalName(n: number): string {
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;
}

/** Lines kept of a failed run's stderr, and characters kept per line. */
const STDERR_TAIL_LINES = 5;
const STDERR_LINE_CHARS = 240;

/** The last non-empty lines of a process's stderr, control characters removed, each cut to a bounded length. */
export function stderrTail(text: string, lines = STDERR_TAIL_LINES): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trimEnd())
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .map((l) => (l.length > STDERR_LINE_CHARS ? `${l.slice(0, STDERR_LINE_CHARS - 1)}…` : l));
}

function tail(text: string, lines = 4): string {
  return stderrTail(text, lines).join(' | ');
}

/** Removes the callgrind output a run kept (and its private directory). */
export function discardProfile(r: RunResult): void {
  if (!r.profilePath) return;
  rmSync(dirname(r.profilePath), { recursive: true, force: true });
  keptProfiles.get(r.profilePath)?.();
  keptProfiles.delete(r.profilePath);
}

/** Profiles runReplay kept for the caller, with the undo that removes each (see traces/cleanup). */
const keptProfiles = new Map<string, () => void>();

/** Total instructions of the collected region in a callgrind output file. */
export function callgrindTotal(path: string): number | undefined {
  const text = readFileSync(path, 'utf8');
  const m = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Replays a plan through a target in a fresh driver process. Never throws
 * for what the allocator does: a crash, a hang or garbage is a RunResult.
 */
export async function runReplay(plan: Plan, target: Target, opts: ReplayOptions): Promise<RunResult> {
  const driver = driverPath(opts.debugDriver);
  const work = mkdtempSync(join(tmpdir(), 'allocreplay-run-'));
  const statsFile = join(work, 'allocator.stats');
  const instructions = opts.metric === 'instructions';
  const profilePath = join(work, 'callgrind.out');
  const args = [plan.planPath, '--result-fd', '3', '--mode', opts.mode, '--touch', opts.touch];
  if (opts.pace === 'recorded') args.push('--pace', 'recorded', '--pace-scale', String(opts.paceScale ?? DEFAULT_PACE_SCALE));
  args.push('--repeat', String(instructions ? 1 : opts.repeat), '--warmup', String(instructions ? 0 : opts.warmup));
  // The RSS series is sampled where the plan computed its live bytes.
  args.push('--samples', String(SERIES_SAMPLES), '--sample-every', String(plan.sampleEvery));
  // The environment is what the configuration names, and nothing else.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', ALLOCREPLAY_STATS_FILE: statsFile, ...target.env };
  if (target.library) env.LD_PRELOAD = target.library;
  let cmd = driver;
  if (instructions) {
    cmd = 'valgrind';
    args.unshift('--tool=callgrind', '--collect-atstart=no', `--callgrind-out-file=${profilePath}`, '--quiet', driver);
  }
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
  // The driver (or valgrind) runs in its own process group, which a Ctrl-C at the terminal does not reach: kill it ourselves.
  const undo = onInterrupt(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) killGroup(child);
    rmSync(work, { recursive: true, force: true });
  });
  const resultChunks: Buffer[] = [];
  let stderr = '';
  (child.stdio[3] as Readable).on('data', (d: Buffer) => resultChunks.push(d));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-8192);
  });
  child.stdout!.resume();
  const limit = killAfter(child, opts.timeoutMs);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((res) => {
    child.on('error', (error) => res({ code: null, signal: null, error }));
    child.on('close', (code, signal) => res({ code, signal }));
  });
  limit.cancel();
  const timedOut = limit.timedOut();

  const out: RunResult = { status: 'failed', samples: [] };
  if (existsSync(statsFile)) out.allocatorStats = parseStats(readFileSync(statsFile, 'utf8'));
  const last = Buffer.concat(resultChunks).toString('utf8').trim().split('\n').at(-1);
  const checked = parseDriverOutput(last);
  const parsed = typeof checked === 'string' ? undefined : checked;
  if (timedOut) {
    out.status = 'timeout';
    out.error = `killed after ${opts.timeoutMs / 1000} s`;
  } else if (exit.error) {
    out.error = `cannot start ${cmd}: ${exit.error.message}`;
  } else if (parsed?.status === 'crashed') {
    out.status = 'crashed';
    out.signal = signalName(parsed.signal ?? 0);
    out.opIndex = parsed.op;
    out.error = `${out.signal} at op ${parsed.op}`;
  } else if (parsed?.status === 'ok' && exit.code === 0) {
    out.status = 'ok';
    out.samples = (parsed.reps ?? []).map((r) => ({ ...toSample(r, plan.ops), ...(parsed.rss_base_kib !== undefined ? { rssBaseKiB: parsed.rss_base_kib } : {}) }));
    const c = parsed.checks!; // present: parseDriverOutput checked it for an ok result
    out.checks = { nulls: c.nulls, misaligned: c.misaligned, shortUsable: c.short_usable, leaked: c.leaked, doubleFreed: c.double_freed };
    if (c.nulls > 0) {
      // The recording's allocations all succeeded (failed ones are not in the plan): NULL here is the allocator's.
      out.status = 'alloc-failed';
      out.error = `${c.nulls} allocation${c.nulls === 1 ? '' : 's'} returned NULL in one repetition of ${plan.ops} ops`;
    }
    // RSS above what the driver held before the first op (its plan and tables), beside the live bytes.
    const base = parsed.rss_base_kib ?? 0;
    out.series = (parsed.series ?? []).map(([op, rss], k) => ({ op, liveBytes: plan.liveBytesAt[k] ?? 0, rssKiB: Math.max(0, rss - base) }));
    if (instructions) {
      const total = existsSync(profilePath) ? callgrindTotal(profilePath) : undefined;
      if (total === undefined) {
        out.status = 'failed';
        out.error = `callgrind wrote no totals${stderr ? `: ${tail(stderr)}` : ''}`;
      } else {
        out.samples[0]!.instructions = total;
        delete out.samples[0]!.cycles;
        out.profilePath = profilePath;
      }
    }
  } else if (parsed?.status === 'failed') {
    out.error = parsed.error;
  } else if (exit.signal) {
    out.status = 'crashed';
    out.signal = exit.signal;
    out.error = `${exit.signal}${stderr ? `: ${tail(stderr)}` : ''}`;
  } else {
    out.error = `driver exited with status ${exit.code}${typeof checked === 'string' && last ? ` (${checked})` : ''}${stderr ? `: ${tail(stderr)}` : ''}`;
  }
  if (out.status !== 'ok') {
    const lines = stderrTail(stderr);
    if (lines.length) out.stderrTail = lines;
  }
  // A kept profile's folder stays registered (removed at exit if nobody discards it first).
  if (!out.profilePath) {
    rmSync(work, { recursive: true, force: true });
    undo();
  } else keptProfiles.set(out.profilePath, undo);
  return out;
}

function toSample(r: DriverRep, ops: number): SampleFigures {
  const s: SampleFigures = {
    wallNs: r.wall_ns,
    nsPerOp: ops ? r.wall_ns / ops : 0,
    userUs: r.user_us,
    sysUs: r.sys_us,
    maxRssKiB: r.maxrss_kib,
    peakRssKiB: r.peak_rss_kib,
    minorFaults: r.minflt,
    majorFaults: r.majflt,
    volCtxSwitches: r.nvcsw,
    invCtxSwitches: r.nivcsw,
  };
  if (r.instructions >= 0) s.instructions = r.instructions;
  if (r.cycles >= 0) s.cycles = r.cycles;
  return s;
}

/** `name value` lines written by an allocator built with statistics. */
export function parseStats(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][\w.]*)\s+(-?\d+)\s*$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Process control: one replay in a fresh driver process, with its timeout, its interrupt handling and its kept profile. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { killAfter, killGroup, onInterrupt, usageError } from '../../traces/index.js';
import { type Plan, SERIES_SAMPLES } from '../plan/index.js';
import type { Target } from '../targets/index.js';
import { driverPath } from './build.js';
import { callgrindTotal } from './callgrind.js';
import { DEFAULT_PACE_SCALE, type ReplayOptions, type RunResult } from './options.js';
import { parseDriverOutput, signalName, stderrTail, toSample } from './output.js';
import { parseStats } from './stats.js';

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

/** Profiles runReplay kept for the caller, with the undo that removes each (see traces/platform/cleanup). */
const keptProfiles = new Map<string, () => void>();

/**
 * ALLOCREPLAY_EXPAND_MAX (bytes): the largest plan a serial replay expands
 * in memory rather than streams (the driver's default: 64 MiB, at most an
 * eighth of the memory; engine/native/driver.h AR_EXPAND_MAX_DEFAULT).
 */
function expandArgs(): string[] {
  const v = process.env.ALLOCREPLAY_EXPAND_MAX;
  if (v === undefined || v === '') return [];
  if (!/^\d+$/.test(v)) throw usageError(`ALLOCREPLAY_EXPAND_MAX=${v}: expected a whole number of bytes`, 'for example ALLOCREPLAY_EXPAND_MAX=0 (always stream) or 4294967296');
  return ['--expand-max', v];
}

/**
 * Replays a plan through a target in a fresh driver process. Never throws
 * for what the allocator does: a crash, a hang or garbage is a RunResult.
 */
export async function runReplay(plan: Plan, target: Target, opts: ReplayOptions): Promise<RunResult> {
  // A bad setting is refused before anything is made.
  const expand = expandArgs();
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
  args.push(...expand);
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
    if (parsed.plan?.form === 'streamed') out.refills = { count: parsed.plan.refills!, ns: parsed.plan.refill_ns! };
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

/**
 * Pace calibration: the scale at which a recorded trace's paced replay does,
 * between calls, as much work as the program did.
 *
 * A work unit (engine/native/pace.h) costs what its cache line costs: a few
 * ns when it hits, a DRAM access when it misses, so how long a unit takes
 * depends on the machine and on the trace's live set. One fixed scale made
 * paced replays of some programs take 2–3 times the program's own time, and
 * the allocator's effect on that surplus work inflated the replay's
 * differences in proportion. So the scale is measured, once per trace and
 * machine: under the system allocator, the paced replay's timed region (its
 * CPU time) at the reference scale less the unpaced one's is the work that
 * scale does; the
 * calibrated scale makes it equal the program's own time in the recording
 * (traces/program/time.ts), then is refined once at the scale found. The
 * result is stored (reports/store/calibration.ts) and every later replay of
 * the trace on the machine uses it: it is part of the configuration, and the
 * instruction count at a given scale stays exact.
 */
import { keepPaceCalibration, type PaceCalibration, paceCalibration, type Store } from '../../reports/index.js';
import { programTime } from '../../traces/index.js';
import { DEFAULT_PACE_SCALE, type ReplayOptions, runReplay } from '../driver/index.js';
import { resolveTarget } from '../targets/index.js';
import type { PlannedTrace } from './measure.js';

/** Repetitions per calibration measurement: the fastest counts (noise only ever adds time); CPU time is what is counted. */
const CALIBRATION_REPEAT = 3;
const SCALE_MIN = 1;
const SCALE_MAX = 100_000;

/** Whether replays of `trace` under `options` take a calibrated scale (a recorded trace, paced, no scale given). */
export function wantsCalibration(trace: Pick<PlannedTrace, 'recorded'>, options: Pick<ReplayOptions, 'pace' | 'paceScale' | 'auto'>): boolean {
  if (!trace.recorded) return false;
  if (options.auto?.includes('pace')) return true;
  return options.pace === 'recorded' && options.paceScale === undefined;
}

/**
 * Sets `trace.paceScale` to its calibration on this machine, measuring it
 * first if the store has none. A calibration that cannot be measured (the
 * system allocator's replay fails) leaves the default scale and says why.
 */
export async function calibratePace(store: Store, trace: PlannedTrace, options: Pick<ReplayOptions, 'timeoutMs'>, onLog?: (line: string) => void): Promise<PaceCalibration | undefined> {
  const known = paceCalibration(store, trace.traceId);
  if (known) {
    trace.paceScale = known.scale;
    return known;
  }
  const time = programTime(trace.path);
  if (!time || time.programNs <= 0) return undefined;
  onLog?.(`calibrating the pace of ${trace.name} on this machine (once): replays under the system allocator`);
  const system = resolveTarget('system');
  const timed = async (scale: number | undefined): Promise<number | string> => {
    const r = await runReplay(trace.plan, system, {
      mode: 'serial',
      touch: 'program',
      ...(scale === undefined ? {} : { pace: 'recorded' as const, paceScale: scale }),
      repeat: CALIBRATION_REPEAT,
      warmup: 1,
      metric: 'time',
      timeoutMs: options.timeoutMs,
    });
    if (r.status !== 'ok' || !r.samples.length) return `${r.status}${r.error ? `: ${r.error}` : ''}`;
    // CPU time, not wall: a busy machine deschedules the replay, and that is not work.
    return Math.min(...r.samples.map((s) => (s.userUs + s.sysUs) * 1000 || s.wallNs));
  };
  const base = await timed(undefined);
  const first = typeof base === 'number' ? await timed(DEFAULT_PACE_SCALE) : base;
  if (typeof base !== 'number' || typeof first !== 'number') {
    onLog?.(`pace of ${trace.name} not calibrated (the system allocator's replay ${typeof base === 'string' ? base : first}): scale ${DEFAULT_PACE_SCALE}`);
    return undefined;
  }
  let reference = DEFAULT_PACE_SCALE;
  let work = Math.max(first - base, 1);
  let scale = clampScale((reference * time.programNs) / work);
  // Work is not quite proportional to the scale (the live set's lines are hotter when visited more often): refine once where it landed.
  if (scale !== reference) {
    const again = await timed(scale);
    if (typeof again === 'number' && again > base) {
      reference = scale;
      work = again - base;
      scale = clampScale((reference * time.programNs) / work);
    }
  }
  const kept = keepPaceCalibration(store, trace.traceId, { scale, programNs: time.programNs, workNs: work, referenceScale: reference });
  trace.paceScale = kept.scale;
  onLog?.(`pace of ${trace.name}: scale ${kept.scale} (the program's own time ${(time.programNs / 1e6).toFixed(0)} ms; kept for this machine)`);
  return kept;
}

/** Calibrates every trace that wants it under `options` (see wantsCalibration). */
export async function calibrateTraces(store: Store, traces: PlannedTrace[], options: ReplayOptions, onLog?: (line: string) => void): Promise<void> {
  for (const t of traces) if (wantsCalibration(t, options)) await calibratePace(store, t, options, onLog);
}

function clampScale(x: number): number {
  return Math.min(SCALE_MAX, Math.max(SCALE_MIN, Math.round(x)));
}

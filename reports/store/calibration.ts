/**
 * Pace calibrations (schema v6): the scale a recorded trace's paced replays
 * use on one machine, measured once (engine/runner/calibrate.ts) and kept.
 */
import type { Store } from './store.js';

export interface PaceCalibration {
  /** Work units per recorded µs. */
  scale: number;
  /** The program's own time the recording saw, net of its allocator calls (ns). */
  programNs: number;
  /** The paced replay's work (paced minus unpaced timed region) at the reference scale (ns). */
  workNs: number;
  referenceScale: number;
}

/** The calibration of a trace on this store's machine, if one was made. */
export function paceCalibration(store: Store, traceId: number): PaceCalibration | undefined {
  const row = store.db
    .prepare('SELECT scale, program_ns AS programNs, work_ns AS workNs, reference_scale AS referenceScale FROM pace_calibrations WHERE trace_id = ? AND machine_id = ?')
    .get(traceId, store.machineId()) as PaceCalibration | undefined;
  return row ? { ...row } : undefined;
}

/** Keeps a calibration; the first one made for (trace, machine) stands. Returns the one that stands. */
export function keepPaceCalibration(store: Store, traceId: number, c: PaceCalibration): PaceCalibration {
  store.db
    .prepare('INSERT OR IGNORE INTO pace_calibrations (trace_id, machine_id, scale, program_ns, work_ns, reference_scale, created) VALUES (?,?,?,?,?,?,?)')
    .run(traceId, store.machineId(), c.scale, Math.round(c.programNs), Math.round(c.workNs), c.referenceScale, new Date().toISOString());
  return paceCalibration(store, traceId)!;
}

/** What a replay is asked to do and what it reports: the driver's options and figures. */
import type { Metric, PaceMode, ReplayMode, RunStatus, TouchPolicy } from '../../traces/index.js';

/** Work units (one cache line of a live block each) per recorded µs when pace=recorded and no scale is given. */
export const DEFAULT_PACE_SCALE = 20;

export interface ReplayOptions {
  mode: ReplayMode;
  /** none; first byte; all of it; program: all of it up to 1 MiB on allocation, the first byte read again before free. */
  touch: TouchPolicy;
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
  /**
   * A streamed plan's refills (engine/native/stream.c): how often the replay reached a chunk not yet in place and
   * decoded it, and for how long in all (ns, taken out of the repetitions' wall times). Absent for an expanded plan.
   */
  refills?: { count: number; ns: number };
  /** The callgrind output of an instructions run, for per-function attribution (caller deletes). */
  profilePath?: string;
}

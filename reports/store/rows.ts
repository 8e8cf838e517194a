/** The rows the results database holds, as the store writes and reads them. */
import type { BuildStatus, Metric, RunStatus } from '../../traces/index.js';
import type { Configuration } from '../identity/index.js';

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
  /** The driver's own RSS before the first op; peakRssKiB/maxRssKiB are absolute. */
  rssBaseKiB?: number;
}

/** What a run is of, and how it ended so far. */
export interface RunHead {
  sessionId: number;
  traceId: number;
  configurationId: number;
  buildId?: number;
  metric: Metric;
  status: RunStatus;
  error?: string;
  signal?: string;
  opIndex?: number;
  allocatorStats?: Record<string, number>;
  series?: { op: number; liveBytes: number; rssKiB: number }[];
  checks?: Record<string, number>;
  /** The allocator's last stderr lines, for a run that did not end ok. */
  stderrTail?: string[];
}

/** A whole run at once: its head, its samples and (instructions) its per-function profile. */
export interface RunRecord extends RunHead {
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
  status: BuildStatus;
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
  /** The full label (every field); reports name what they list with `configurationNames` (reports/compare/labels.ts). */
  label: string;
  /** The canonical configuration (null for rows stored before configurations were canonical). */
  configuration: Configuration | null;
  flags: Record<string, string>;
  env: Record<string, string>;
  metric: Metric;
  status: RunStatus;
  error: string | null;
  signal: string | null;
  opIndex: number | null;
  allocatorStats: Record<string, number> | null;
  series: { op: number; liveBytes: number; rssKiB: number }[] | null;
  checks: Record<string, number> | null;
  /** The allocator's last stderr lines, for a run that did not end ok. */
  stderrTail: string[] | null;
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
  /** CPU time (user + system) of the repetition, in ns: the timed region's for a replay, the program's for a live run (null when not stored). */
  cpuNs: number | null;
  /** Peak RSS above the driver's baseline: the allocator's own growth (null when not known). */
  rssGrowthKiB: number | null;
}

/** How a stored configuration stands for a (trace, metric) on this machine. */
export interface StoredState {
  /** Samples of its runs that ended ok. */
  okSamples: number;
  /** The newest run, if any. */
  latest: RunRow | undefined;
}

/** A samples row as reports read it. */
export function sampleRow(s: Record<string, number | null>): SampleRow {
  const peak = s.peak_rss_kib ?? null;
  const base = s.rss_base_kib ?? null;
  return {
    rep: s.rep as number,
    wallNs: s.wall_ns as number,
    nsPerOp: s.ns_per_op as number,
    peakRssKiB: peak,
    maxRssKiB: s.max_rss_kib ?? null,
    instructions: s.instructions ?? null,
    cycles: s.cycles ?? null,
    cpuNs: s.user_us === null || s.user_us === undefined || s.sys_us === null || s.sys_us === undefined ? null : (s.user_us + s.sys_us) * 1000,
    rssGrowthKiB: peak === null || base === null ? null : Math.max(0, peak - base),
  };
}

/** The driver's output: its result line checked at the boundary, its figures as samples, its stderr's tail. */
import { constants } from 'node:os';
import type { SampleFigures } from './options.js';

export interface DriverRep {
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

export interface DriverOutput {
  status: 'ok' | 'crashed' | 'failed';
  error?: string;
  signal?: number;
  op?: number;
  reps?: DriverRep[];
  checks?: { nulls: number; misaligned: number; short_usable: number; leaked: number; double_freed: number };
  series?: [number, number][];
  rss_base_kib?: number;
  /** How the driver held the plan: expanded, or streamed through a window (with its waits). */
  plan?: { form: string; refills?: number; refill_ns?: number };
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
    const p = o.plan as Record<string, unknown> | undefined;
    if (p !== undefined && (typeof p !== 'object' || p === null || typeof p.form !== 'string' || (p.form === 'streamed' && !(isNum(p.refills) && isNum(p.refill_ns)))))
      return "the driver's plan figures are malformed";
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

export function toSample(r: DriverRep, ops: number): SampleFigures {
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

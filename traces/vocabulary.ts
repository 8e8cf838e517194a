/**
 * The words every part of allocreplay shares, each list in one place with
 * the type derived from it: the trace format's op codes, the metrics a run
 * measures, the replay options a configuration names, and the statuses that
 * builds and runs end in. Flag definitions take their `options` from these
 * lists, so what the command line accepts and what the types admit are one
 * thing. (The store's CHECK constraints are migrations, frozen as written;
 * test/reports checks they admit these words.)
 */
import { inputError } from './platform/errors.js';

/**
 * Operation codes. The numeric values are part of trace format v1, and the
 * C sides use the same numbers (traces/native/trace_out.h TRACE_OP_*,
 * raw_log.h R_*, engine/native/plan.h AR_*; test/traces/opcodes.test.ts).
 */
export const Op = {
  malloc: 1,
  calloc: 2,
  realloc: 3,
  free: 4,
  memalign: 5,
  posix_memalign: 6,
  aligned_alloc: 7,
  valloc: 8,
  pvalloc: 9,
  thread_exit: 10,
} as const;
export type OpName = keyof typeof Op;
export type OpCode = (typeof Op)[OpName];

export const OP_NAMES: readonly OpName[] = Object.keys(Op) as OpName[];

/** What a run measures: wall time (repeated) or instructions (callgrind, exact). */
export const METRICS = ['time', 'instructions'] as const;
export type Metric = (typeof METRICS)[number];

/**
 * How a replay runs a trace: `serial`, every op in recorded global order on
 * one thread (deterministic); `threads`, one thread per recorded thread.
 */
export const REPLAY_MODES = ['serial', 'threads'] as const;
export type ReplayMode = (typeof REPLAY_MODES)[number];

/** How a measured workload ran, as its configuration says: a replay mode, or `live` (the recorded program itself). */
export const WORKLOAD_MODES = [...REPLAY_MODES, 'live'] as const;
export type WorkloadMode = (typeof WORKLOAD_MODES)[number];

/**
 * What a replay writes to the blocks it gets: nothing; the first byte; all
 * of it; `program`, all of it up to 1 MiB on allocation and the first byte
 * read again before free.
 */
export const TOUCH_POLICIES = ['none', 'first', 'all', 'program'] as const;
export type TouchPolicy = (typeof TOUCH_POLICIES)[number];

/** `none`: calls back to back; `recorded`: the program's work between calls, in proportion to the recorded time (engine/native/pace.h). */
export const PACE_MODES = ['none', 'recorded'] as const;
export type PaceMode = (typeof PACE_MODES)[number];

/** How a build ended. A failed build is a recorded result, not a crash. */
export const BUILD_STATUSES = ['ok', 'failed'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

/**
 * How a run ended: `ok`; `alloc-failed` (the allocator returned NULL where
 * the recording did not); `failed` (the build, the driver or the tooling
 * failed: not the allocator's doing); `crashed` (a signal in the
 * allocator); `timeout`.
 */
export const RUN_STATUSES = ['ok', 'alloc-failed', 'failed', 'crashed', 'timeout'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** True when `value` is one of `words`. */
export function isWord<const T extends readonly string[]>(words: T, value: unknown): value is T[number] {
  return (words as readonly unknown[]).includes(value);
}

/**
 * `value` as one of `words`, for values read back from a file or the store
 * (whose CHECK constraints admit only these): anything else is a damaged
 * input, named by `what`.
 */
export function wordOf<const T extends readonly string[]>(words: T, value: unknown, what: string): T[number] {
  if (isWord(words, value)) return value;
  throw inputError(`${what} is ${JSON.stringify(value)}, not one of ${words.join(', ')}`, 'the file was written by a newer allocreplay, or damaged');
}

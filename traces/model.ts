/**
 * The trace model: what an allocation trace is, independent of how it is
 * stored. Pointers never appear; every allocation result is a dense object id
 * (1, 2, 3, … in allocation order; 0 means NULL / no object).
 */
import { Op, type OpCode } from './vocabulary.js';

/**
 * One event, in the meaning every part of allocreplay uses:
 * - `object`: the object this event creates (allocations; 0 when the call
 *   failed) or ends (free: 0 means free(NULL)).
 * - `size`: requested bytes (calloc: bytes per element; free: 0).
 * - `arg`: calloc's nmemb; memalign/posix_memalign/aligned_alloc's
 *   alignment; realloc's old object id (0 = realloc(NULL)); else 0.
 * A realloc always ends the old object and creates a new one, even when the
 * allocator returned the same address.
 */
export interface TraceEvent {
  op: OpCode;
  thread: number;
  object: number;
  size: number;
  arg: number;
  /** ns since the trace started, when the trace has timestamps. */
  time?: number;
}

/**
 * A chunk of events in columns, the unit readers yield and writers accept.
 * Columns all have `length` valid entries. Sizes and args are float64 so
 * that values up to 2^53 are exact.
 */
export interface EventChunk {
  length: number;
  op: Uint8Array;
  thread: Uint32Array;
  object: Uint32Array;
  size: Float64Array;
  arg: Float64Array;
  /** Absolute ns since start, present when the trace has timestamps. */
  time?: Float64Array;
}

/** Allocates an empty chunk with room for `capacity` events. */
export function newChunk(capacity: number, withTime = false): EventChunk {
  const c: EventChunk = {
    length: 0,
    op: new Uint8Array(capacity),
    thread: new Uint32Array(capacity),
    object: new Uint32Array(capacity),
    size: new Float64Array(capacity),
    arg: new Float64Array(capacity),
  };
  if (withTime) c.time = new Float64Array(capacity);
  return c;
}

/** True when the op creates an object (every op but free and thread_exit). */
export function isAlloc(op: number): boolean {
  return op !== Op.free && op !== Op.thread_exit && op >= Op.malloc && op <= Op.pvalloc;
}

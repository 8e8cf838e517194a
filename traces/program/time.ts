/**
 * The program's own time in a recording: the time between allocator calls,
 * which a paced replay reproduces as work (engine/native/pace.h).
 *
 * The recorder stamps every 64th call of a thread (and some others), so
 * time comes in windows: the calls between two stamps and the time they
 * spanned. That span holds the program's work and the calls themselves (the
 * recording allocator's cost and the recorder's). The calls' share is taken
 * as the cost per call of the busiest windows (the 1st percentile of time
 * per call: windows where the program did almost nothing between calls), so
 * the program's own time is each window's span less that cost per call.
 */
import { openTrace } from '../format/index.js';

export interface ProgramTime {
  /** Every window's span: the recording's time from its first stamp to its last. */
  recordedNs: number;
  /** The same less the calls' own cost. */
  programNs: number;
  /** The estimated cost of one call while recording (ns). */
  callNs: number;
  windows: number;
}

/** The program time of a recorded trace; undefined when it carries no call times. */
export function programTime(path: string): ProgramTime | undefined {
  const reader = openTrace(path);
  try {
    if (!reader.header.hasTime) return undefined;
    let span = new Float64Array(1 << 16);
    let calls = new Float64Array(1 << 16);
    let n = 0;
    let clock = -1;
    let since = 0;
    for (const c of reader.chunks()) {
      const time = c.time!;
      for (let i = 0; i < c.length; i++) {
        since++;
        const t = time[i]!;
        // Threads' clocks interleave: time never runs backwards here.
        if (t <= clock) continue;
        if (clock >= 0) {
          if (n === span.length) {
            span = grow(span);
            calls = grow(calls);
          }
          span[n] = t - clock;
          calls[n++] = since;
        }
        clock = t;
        since = 0;
      }
    }
    if (n === 0) return { recordedNs: 0, programNs: 0, callNs: 0, windows: 0 };
    const perCall = new Float64Array(n);
    for (let k = 0; k < n; k++) perCall[k] = span[k]! / calls[k]!;
    perCall.sort();
    const callNs = perCall[Math.floor(0.01 * (n - 1))]!;
    let recordedNs = 0;
    let programNs = 0;
    for (let k = 0; k < n; k++) {
      recordedNs += span[k]!;
      programNs += Math.max(0, span[k]! - callNs * calls[k]!);
    }
    return { recordedNs, programNs, callNs, windows: n };
  } finally {
    reader.close();
  }
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

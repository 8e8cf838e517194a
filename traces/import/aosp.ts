import { Op } from '../vocabulary.js';
import type { PointerTracker } from '../record/pointers.js';
import { type Cursor, MAX_VALUE, type PointerKey } from './cursor.js';
import { type ImportOptions, type ImportResult, importLines } from './import.js';

/** Timestamps are kept relative to the first; deltas stay encodable (|Δ| < 2^52) within this span (ns, ~52 days). */
const MAX_TIME_SPAN = 2 ** 52 - 1;

const AOSP_WORDS = ['malloc', 'free', 'calloc', 'realloc', 'memalign', 'thread_done'].map((w) => Buffer.from(w, 'latin1'));
const AOSP_OPS = [Op.malloc, Op.free, Op.calloc, Op.realloc, Op.memalign, Op.thread_exit];

/** Byte values the fast path compares against (inlined by the compiler). */
const enum Byte {
  LF = 10,
  CR = 13,
  Zero = 48,
  Colon = 58,
}
/** Decimal digits at most in a number the fast path reads: below 10^15 < 2^53, so always exact and in range. */
const FAST_DIGITS = 15;
/** Significant hex digits at most in a pointer the fast path reads: 13 are exact as a double (wider ones key by text). */
const FAST_HEX = 13;

const isPowerOfTwo = (v: number): boolean => v >= 1 && v <= 2 ** 52 && 2 ** Math.round(Math.log2(v)) === v;

/** BYTE_CLASS bits: a blank between fields (space, tab); the end of a field (a blank, LF or CR). Other bytes: 0. */
const BLANK = 1;
const FIELD_END = 2;
const BYTE_CLASS = new Uint8Array(256);
BYTE_CLASS[32] = BLANK | FIELD_END;
BYTE_CLASS[9] = BLANK | FIELD_END;
BYTE_CLASS[Byte.LF] = FIELD_END;
BYTE_CLASS[Byte.CR] = FIELD_END;
/** The value of a hex digit (either case), -1 for any other byte. */
const HEX_DIGIT = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_DIGIT['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_DIGIT['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/**
 * Android memory_replay text dumps: `<tid>: <op> <ptr> [args] [timestamps]`
 * (a `.zip` holding one is read directly: its first regular file, or
 * `opts.entry`). Every number is range-checked: a value beyond the trace
 * format's 2^53-1 is a malformed line, never a wrapped or infinite one.
 *
 * Two parsers read the lines: a fast one for plain lines (short decimal
 * numbers, 0x pointers of ≤ 13 digits, spaces or tabs between fields), which
 * makes no call per field and leaves every other line untouched to the
 * cursor-based one (`(nil)`, tagged pointers, huge numbers, malformed lines
 * and their reasons). Both end in `emit`, so they cannot disagree on what a
 * line means.
 */
export function importAosp(path: string, out: string, opts: ImportOptions = {}): Promise<ImportResult> {
  let t0 = -1;

  /** Checks a parsed line's values and hands its call to the tracker; false (nothing changed) when they do not make a call. */
  const emit = (
    t: PointerTracker,
    op: number,
    tid: number,
    ptr: PointerKey,
    old: PointerKey,
    n0: number,
    n1: number,
    n2: number,
    count: number,
    c?: Cursor,
  ): boolean => {
    const need = op === Op.malloc || op === Op.realloc ? 1 : op === Op.calloc || op === Op.memalign ? 2 : 0;
    if (count < need) return false;
    if (op === Op.memalign && !isPowerOfTwo(n0)) return c?.fail(`alignment ${n0} is not a power of two`) ?? false;
    if (op === Op.calloc && n0 * n1 > MAX_VALUE && ptr !== 0) return c?.fail(`calloc of ${n0} × ${n1} bytes is above the trace format's limit of 2^53-1`) ?? false;
    const ns = count > need ? (need === 0 ? n0 : need === 1 ? n1 : n2) : 0;
    if (t0 < 0) t0 = ns;
    else if (ns - t0 > MAX_TIME_SPAN) return c?.fail('timestamp more than 2^52 ns after the first') ?? false;
    if (op === Op.free) t.free(tid, ptr, ptr === 0, ns);
    else if (op === Op.thread_exit) t.threadExit(tid, ns);
    else if (op === Op.realloc) t.realloc(tid, old, old === 0, ptr, ptr === 0, n0, ns);
    else if (op === Op.malloc) t.alloc(op, tid, ptr, ptr === 0, n0, 0, ns);
    else t.alloc(op, tid, ptr, ptr === 0, n1, n0, ns); // calloc nmemb size; memalign alignment size
    return true;
  };

  const slow = (c: Cursor, t: PointerTracker): boolean => {
    const tid = c.dec();
    if (tid < 0 || !c.expect(Byte.Colon)) return false;
    const op = AOSP_OPS[c.oneOf(AOSP_WORDS)];
    const ptr = c.ptr();
    if (op === undefined || ptr === undefined) return false;
    const old = op === Op.realloc ? c.ptr() : 0;
    if (old === undefined) return false;
    // Up to three numbers: the op's own arguments, then timestamps (ns) of which the first is kept.
    let n0 = 0;
    let n1 = 0;
    let n2 = 0;
    let count = 0;
    while (!c.done()) {
      const v = c.dec();
      if (v < 0) return false;
      if (count === 0) n0 = v;
      else if (count === 1) n1 = v;
      else if (count === 2) n2 = v;
      count++;
    }
    return emit(t, op, tid, ptr, old, n0, n1, n2, count, c);
  };

  // Called only on lines that end with a LF (see FastLineHandler): every loop below stops at it, so no read passes the buffer's end.
  const fast = (b: Buffer, p: number, t: PointerTracker): number => {
    let ch = b[p]!;
    while (BYTE_CLASS[ch]! & BLANK) ch = b[++p]!;
    let s = p;
    let tid = 0;
    // Decimal digits: d = byte - '0' in 0 … 9, one unsigned comparison.
    let d = ch - Byte.Zero;
    while (d >>> 0 <= 9) {
      tid = tid * 10 + d;
      d = b[++p]! - Byte.Zero;
    }
    if (p === s || p - s > FAST_DIGITS) return -1;
    ch = b[p]!;
    while (BYTE_CLASS[ch]! & BLANK) ch = b[++p]!;
    if (ch !== Byte.Colon) return -1;
    ch = b[++p]!;
    while (BYTE_CLASS[ch]! & BLANK) ch = b[++p]!;
    // The op's word, told by its first letters ('m': malloc or memalign), then checked whole, a blank after it.
    const w = ch === 109 ? (b[p + 1] === 97 ? 0 : 4) : ch === 102 ? 1 : ch === 99 ? 2 : ch === 114 ? 3 : ch === 116 ? 5 : -1;
    if (w < 0) return -1;
    const word = AOSP_WORDS[w]!;
    for (let k = 1; k < word.length; k++) if (b[p + k] !== word[k]) return -1;
    p += word.length;
    ch = b[p]!;
    if (!(BYTE_CLASS[ch]! & BLANK)) return -1;
    const op = AOSP_OPS[w]!;
    // One pointer (two for realloc: new, then old).
    let ptr = 0;
    let old = 0;
    for (let i = op === Op.realloc ? 2 : 1; i > 0; i--) {
      while (BYTE_CLASS[ch]! & BLANK) ch = b[++p]!;
      if (ch !== Byte.Zero) return -1;
      ch = b[++p]!;
      if ((ch | 32) !== 120) return -1; // x or X
      ch = b[++p]!;
      s = p;
      while (ch === Byte.Zero) ch = b[++p]!;
      const first = p;
      let v = 0;
      let h = HEX_DIGIT[ch]!;
      while (h >= 0) {
        v = v * 16 + h;
        h = HEX_DIGIT[b[++p]!]!;
      }
      ch = b[p]!;
      if (p === s || p - first > FAST_HEX || !(BYTE_CLASS[ch]! & FIELD_END)) return -1;
      if (i === 2 || op !== Op.realloc) ptr = v;
      else old = v;
    }
    // Then up to three numbers (the op's own arguments, then timestamps), to the line's end.
    let n0 = 0;
    let n1 = 0;
    let n2 = 0;
    let count = 0;
    for (;;) {
      while (BYTE_CLASS[ch]! & BLANK) ch = b[++p]!;
      if (ch === Byte.LF || (ch === Byte.CR && b[p + 1] === Byte.LF)) break;
      s = p;
      let v = 0;
      d = ch - Byte.Zero;
      while (d >>> 0 <= 9) {
        v = v * 10 + d;
        d = b[++p]! - Byte.Zero;
      }
      ch = b[p]!;
      if (p === s || p - s > FAST_DIGITS || !(BYTE_CLASS[ch]! & FIELD_END)) return -1;
      if (count === 0) n0 = v;
      else if (count === 1) n1 = v;
      else if (count === 2) n2 = v;
      count++;
    }
    if (!emit(t, op, tid, ptr, old, n0, n1, n2, count)) return -1;
    return ch === Byte.LF ? p + 1 : p + 2;
  };

  return importLines(path, out, 'aosp', opts, slow, fast);
}

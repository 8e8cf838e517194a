import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { inputError } from '../errors.js';
import type { TraceFooter } from '../format/index.js';
import { Op } from '../model.js';
import { type ConversionCounts, PointerTracker } from '../record/pointers.js';
import { unzipFirst } from './zip.js';

export interface ImportResult {
  footer: TraceFooter;
  counts: ConversionCounts;
  lines: number;
  /** Malformed lines skipped (--lenient). */
  skipped: number;
}

interface LineReader {
  /** Returns the byte range of the next line, or false at the end. */
  next(): boolean;
  start: number;
  end: number;
  line: number;
}

function lines(buf: Buffer): LineReader {
  let pos = 0;
  const r: LineReader = {
    start: 0,
    end: 0,
    line: 0,
    next() {
      if (pos >= buf.length) return false;
      let e = buf.indexOf(10, pos);
      if (e < 0) e = buf.length;
      r.start = pos;
      r.end = e > pos && buf[e - 1] === 13 ? e - 1 : e;
      r.line++;
      pos = e + 1;
      return true;
    },
  };
  return r;
}

/** A cursor over one line's bytes, parsing without making substrings. */
class Cursor {
  pos = 0;
  end = 0;
  constructor(readonly buf: Buffer) {}

  at(start: number, end: number): void {
    this.pos = start;
    this.end = end;
  }

  spaces(): void {
    while (this.pos < this.end && (this.buf[this.pos] === 32 || this.buf[this.pos] === 9)) this.pos++;
  }

  done(): boolean {
    this.spaces();
    return this.pos >= this.end;
  }

  /** A decimal integer, or -1. */
  dec(): number {
    this.spaces();
    let v = 0;
    const s = this.pos;
    while (this.pos < this.end) {
      const c = this.buf[this.pos]!;
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      this.pos++;
    }
    return this.pos > s ? v : -1;
  }

  /** Which of `words` comes next (compared as bytes, no string made), or -1. */
  oneOf(words: readonly Buffer[]): number {
    this.spaces();
    const b = this.buf;
    let e = this.pos;
    while (e < this.end && b[e] !== 32 && b[e] !== 58 && b[e] !== 9) e++;
    const len = e - this.pos;
    for (let w = 0; w < words.length; w++) {
      const word = words[w]!;
      if (word.length !== len) continue;
      let k = 0;
      while (k < len && b[this.pos + k] === word[k]) k++;
      if (k === len) {
        this.pos = e;
        return w;
      }
    }
    return -1;
  }

  expect(ch: number): boolean {
    this.spaces();
    if (this.buf[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }

  /** A 0x-prefixed hex number: its key (exact for any width) and whether it is zero; undefined if absent. */
  hex(): { key: number | string; zero: boolean; value: number } | undefined {
    this.spaces();
    const b = this.buf;
    if (b[this.pos] !== 48 || (b[this.pos + 1] !== 120 && b[this.pos + 1] !== 88)) {
      if (b.toString('latin1', this.pos, this.pos + 5) === '(nil)') {
        this.pos += 5;
        return { key: 0, zero: true, value: 0 };
      }
      return undefined;
    }
    this.pos += 2;
    const s = this.pos;
    let v = 0;
    while (this.pos < this.end) {
      const c = b[this.pos]!;
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      v = v * 16 + d;
      this.pos++;
    }
    if (this.pos === s) return undefined;
    // Up to 13 hex digits are exact as numbers; wider (tagged) pointers key by text.
    const key = this.pos - s <= 13 ? v : b.toString('latin1', s, this.pos).toLowerCase();
    return { key, zero: v === 0, value: v };
  }
}

function readDump(path: string): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw inputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code})`, 'check the path');
  }
  return buf.length >= 4 && buf.readUInt32LE(0) === 0x04034b50 ? unzipFirst(path, buf) : buf;
}

type LineHandler = (c: Cursor, t: PointerTracker) => boolean;

function importLines(path: string, out: string, name: 'aosp' | 'mtrace', lenient: boolean, handle: LineHandler): ImportResult {
  const buf = readDump(path);
  const tracker = new PointerTracker(out, { producer: { kind: 'import', name, params: { file: basename(path) } }, hasTime: name === 'aosp' });
  const r = lines(buf);
  const c = new Cursor(buf);
  let skipped = 0;
  try {
    while (r.next()) {
      c.at(r.start, r.end);
      if (c.done()) continue;
      c.at(r.start, r.end);
      if (!handle(c, tracker)) {
        if (!lenient) {
          const text = buf.toString('latin1', r.start, Math.min(r.end, r.start + 120));
          throw inputError(`${path}:${r.line}: cannot parse '${text}'`, 'fix or remove the line, or pass --lenient to skip and count malformed lines');
        }
        skipped++;
      }
    }
    return { footer: tracker.close(), counts: tracker.counts, lines: r.line, skipped };
  } catch (e) {
    tracker.abort();
    throw e;
  }
}

const AOSP_WORDS = ['malloc', 'free', 'calloc', 'realloc', 'memalign', 'thread_done'].map((w) => Buffer.from(w, 'latin1'));
const AOSP_OPS = [Op.malloc, Op.free, Op.calloc, Op.realloc, Op.memalign, Op.thread_exit];

/**
 * Android memory_replay text dumps: `<tid>: <op> <ptr> [args] [timestamps]`
 * (a `.zip` holding one is read directly).
 */
export function importAosp(path: string, out: string, opts: { lenient?: boolean } = {}): ImportResult {
  return importLines(path, out, 'aosp', opts.lenient ?? false, (c, t) => {
    const tid = c.dec();
    if (tid < 0 || !c.expect(58)) return false;
    const op = AOSP_OPS[c.oneOf(AOSP_WORDS)];
    const ptr = c.hex();
    if (op === undefined || !ptr) return false;
    const old = op === Op.realloc ? c.hex() : undefined;
    if (op === Op.realloc && !old) return false;
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
    const need = op === Op.malloc || op === Op.realloc ? 1 : op === Op.calloc || op === Op.memalign ? 2 : 0;
    if (count < need) return false;
    const ns = count > need ? (need === 0 ? n0 : need === 1 ? n1 : n2) : 0;
    if (op === Op.free) t.free(tid, ptr.key, ptr.zero, ns);
    else if (op === Op.thread_exit) t.threadExit(tid, ns);
    else if (op === Op.realloc) t.realloc(tid, old!.key, old!.zero, ptr.key, ptr.zero, n0, ns);
    else if (op === Op.malloc) t.alloc(op, tid, ptr.key, ptr.zero, n0, 0, ns);
    else t.alloc(op, tid, ptr.key, ptr.zero, n1, n0, ns); // calloc nmemb size; memalign alignment size
    return true;
  });
}

/**
 * glibc mtrace() logs: `@ caller + 0xPTR 0xSIZE` (allocation), `@ caller -
 * 0xPTR` (free), and a realloc as `< 0xOLD` then `> 0xNEW 0xSIZE`; `=` lines
 * mark start and end. mtrace has no threads: everything is thread 0.
 */
export function importMtrace(path: string, out: string, opts: { lenient?: boolean } = {}): ImportResult {
  let pendingOld: { key: number | string; zero: boolean } | undefined;
  return importLines(path, out, 'mtrace', opts.lenient ?? false, (c, t) => {
    if (c.expect(61)) return true; // '= Start' / '= End'
    if (!c.expect(64)) return false; // '@'
    // The caller field runs to the next space: `./prog:[0x4005d4]` or `/lib/libc.so.6:(realloc+0x2b)[0x…]`.
    c.spaces();
    while (c.pos < c.end && c.buf[c.pos] !== 32) c.pos++;
    c.spaces();
    const kind = c.buf[c.pos];
    c.pos++;
    const ptr = c.hex();
    if (!ptr) return false;
    if (kind === 45) {
      t.free(0, ptr.key, ptr.zero);
    } else if (kind === 60) {
      pendingOld = ptr;
    } else if (kind === 43 || kind === 62) {
      const size = c.hex();
      if (!size) return false;
      if (kind === 62) {
        const old = pendingOld ?? { key: 0, zero: true };
        pendingOld = undefined;
        t.realloc(0, old.key, old.zero, ptr.key, ptr.zero, size.value);
      } else {
        t.alloc(Op.malloc, 0, ptr.key, ptr.zero, size.value, 0);
      }
    } else {
      return false;
    }
    return c.done();
  });
}

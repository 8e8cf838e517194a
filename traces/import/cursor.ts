/** Largest number a trace column holds (FORMAT.md: values below 2^53). */
export const MAX_VALUE = Number.MAX_SAFE_INTEGER;

/** Splits a window of a dump into lines (LF or CRLF) without making strings; line numbers run on across windows. */
export class LineReader {
  /** Where the next line starts. */
  pos = 0;
  start = 0;
  end = 0;
  /** 1-based number of the current line. */
  line = 0;
  private buf: Buffer = Buffer.alloc(0);
  /** The window's end: no line reaches past it. */
  private limit = 0;

  /** Reads the lines of `buf[0, end)` next. */
  window(buf: Buffer, end: number): void {
    this.buf = buf;
    this.limit = end;
    this.pos = 0;
  }

  /** Moves to the next line; false at the window's end. */
  next(): boolean {
    const buf = this.buf;
    if (this.pos >= this.limit) return false;
    let e = buf.indexOf(10, this.pos);
    if (e < 0 || e >= this.limit) e = this.limit;
    this.start = this.pos;
    this.end = e > this.pos && buf[e - 1] === 13 ? e - 1 : e;
    this.line++;
    this.pos = e + 1;
    return true;
  }
}

/** A pointer as read: exact for any width (a number up to 13 hex digits, else its digits as text); 0 is NULL. */
export type PointerKey = number | string;

const NIL = Buffer.from('(nil)', 'latin1');

/**
 * A cursor over one line's bytes, parsing without making substrings. Never
 * reads past the line's end; a number too big for a trace sets `problem`
 * (the reason the line is malformed) instead of overflowing.
 */
export class Cursor {
  pos = 0;
  end = 0;
  /** Why the last parse failed, when a plain "cannot parse" is not enough. */
  problem: string | undefined;
  constructor(readonly buf: Buffer) {}

  at(start: number, end: number): void {
    this.pos = start;
    this.end = end;
    this.problem = undefined;
  }

  spaces(): void {
    while (this.pos < this.end && (this.buf[this.pos] === 32 || this.buf[this.pos] === 9)) this.pos++;
  }

  done(): boolean {
    this.spaces();
    return this.pos >= this.end;
  }

  /** The byte at the cursor, or -1 at the line's end. */
  peek(): number {
    return this.pos < this.end ? this.buf[this.pos]! : -1;
  }

  /** Marks the line malformed for `why`; returns false for chaining. */
  fail(why: string): false {
    this.problem ??= why;
    return false;
  }

  expect(ch: number): boolean {
    this.spaces();
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  /** The value of the last hex number read, or -1 when it exceeds MAX_VALUE. */
  private hexValue = 0;

  /** A 0x-prefixed hex number (or `(nil)`) as a pointer key; undefined if absent. No allocation for narrow pointers. */
  ptr(): PointerKey | undefined {
    this.spaces();
    const b = this.buf;
    if (b[this.pos] === 40 && this.end - this.pos >= 5 && b.compare(NIL, 0, 5, this.pos, this.pos + 5) === 0) {
      this.pos += 5;
      this.hexValue = 0;
      return 0;
    }
    if (this.end - this.pos < 3 || b[this.pos] !== 48 || (b[this.pos + 1] !== 120 && b[this.pos + 1] !== 88)) return undefined;
    this.pos += 2;
    const s = this.pos;
    let first = -1; // the first significant (non-zero) digit
    let v = 0;
    while (this.pos < this.end) {
      const c = b[this.pos]!;
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      if (first < 0 && d !== 0) first = this.pos;
      if (v <= MAX_VALUE) v = v * 16 + d;
      this.pos++;
    }
    if (this.pos === s) return undefined;
    this.hexValue = v <= MAX_VALUE ? v : -1;
    if (first < 0) return 0;
    // Up to 13 significant hex digits are exact as numbers; wider (tagged) pointers key by text.
    return this.pos - first <= 13 ? v : b.toString('latin1', first, this.pos).toLowerCase();
  }

  /** A hex number used as a size: present and ≤ MAX_VALUE, else -1 (with `problem` set when too big). */
  hexSize(): number {
    if (this.ptr() === undefined) return -1;
    if (this.hexValue < 0) return this.fail("size is above the trace format's limit of 2^53-1") || -1;
    return this.hexValue;
  }
}

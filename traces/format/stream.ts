import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Unpackr } from 'msgpackr';
import { inputError } from '../platform/errors.js';
import { MAX_NESTING, MAX_VALUE_BYTES } from './spec.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Why a value could not be measured: cut short by the end of the data, or not MessagePack we accept. */
type Measure = number | 'short' | string;

/**
 * Finds where the MessagePack value starting at `pos` ends, without
 * decoding it: an explicit stack (no recursion, so hostile nesting cannot
 * exhaust the JS stack), nesting capped at MAX_NESTING, extension types
 * refused (format v1 uses none), every value capped at MAX_VALUE_BYTES.
 * Returns the end offset, 'short' when the bytes run out first, or the
 * reason the bytes are not an acceptable value.
 */
export function measureValue(b: Uint8Array, pos: number, end: number): Measure {
  const start = pos;
  // pending[d] = values still to read at depth d.
  const pending: number[] = [1];
  while (pending.length > 0) {
    if (pending[pending.length - 1] === 0) {
      pending.pop();
      continue;
    }
    pending[pending.length - 1]!--;
    if (pos >= end) return 'short';
    const t = b[pos]!;
    let head = 1;
    let body = 0;
    let children = 0;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) head = 1;
    else if (t <= 0x8f) children = (t & 0x0f) * 2;
    else if (t <= 0x9f) children = t & 0x0f;
    else if (t <= 0xbf) body = t & 0x1f;
    else if (t === 0xc1) return 'byte 0xc1 is never used in MessagePack';
    else if (t >= 0xc7 && t <= 0xc9) return 'extension types are not part of the trace format';
    else if (t >= 0xd4 && t <= 0xd8) return 'extension types are not part of the trace format';
    else if (t === 0xca) head = 5;
    else if (t === 0xcb) head = 9;
    else if (t === 0xcc || t === 0xd0) head = 2;
    else if (t === 0xcd || t === 0xd1) head = 3;
    else if (t === 0xce || t === 0xd2) head = 5;
    else if (t === 0xcf || t === 0xd3) head = 9;
    else {
      // Lengths: bin/str 8·16·32, array 16·32, map 16·32.
      const width = t === 0xc4 || t === 0xd9 ? 1 : t === 0xc5 || t === 0xda || t === 0xdc || t === 0xde ? 2 : 4;
      if (pos + 1 + width > end) return 'short';
      let n = 0;
      for (let i = 1; i <= width; i++) n = n * 256 + b[pos + i]!;
      head = 1 + width;
      if (t === 0xdc || t === 0xdd) children = n;
      else if (t === 0xde || t === 0xdf) children = n * 2;
      else body = n;
    }
    pos += head + body;
    if (pos - start > MAX_VALUE_BYTES) return `a value larger than ${MAX_VALUE_BYTES / 2 ** 20} MiB`;
    if (children > 0) {
      if (pending.length >= MAX_NESTING) return `values nested more than ${MAX_NESTING} deep`;
      // Each child takes at least one byte: a count beyond the cap is a lie.
      if (children > MAX_VALUE_BYTES) return `a value larger than ${MAX_VALUE_BYTES / 2 ** 20} MiB`;
      pending.push(children);
    }
  }
  return pos > end ? 'short' : pos;
}

/** One top-level value of a file and where it sits. */
export interface RawValue {
  value: unknown;
  /** Byte offset of the value in the file. */
  offset: number;
}

/**
 * Reads a file of concatenated MessagePack values one value at a time, in
 * blocks, so memory is bounded by the largest value (≤ MAX_VALUE_BYTES),
 * never by the file. `next()` returns undefined at a clean end of file;
 * `cutShort` then tells whether the last value was incomplete.
 */
export class ValueStream {
  private readonly fd: number;
  readonly bytes: number;
  private buf = new Uint8Array(1 << 16);
  private start = 0; // first unconsumed byte in buf
  private end = 0; // bytes of buf holding file data
  private fileOffset = 0; // file offset of buf[0]
  private eof = false;
  cutShort = false;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
      this.bytes = fstatSync(this.fd).size;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw inputError(`${path}: cannot read trace (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : String(code)})`, 'check the path');
    }
  }

  /** Reads more of the file into the buffer; false at end of file. */
  private fill(): boolean {
    if (this.eof) return false;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.fileOffset += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      const bigger = new Uint8Array(Math.min(this.buf.length * 2, MAX_VALUE_BYTES + 64));
      bigger.set(this.buf.subarray(0, this.end));
      this.buf = bigger;
    }
    const n = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
    if (n === 0) this.eof = true;
    this.end += n;
    return n > 0;
  }

  /** Bytes of the file not yet consumed (after the last value returned). */
  get offset(): number {
    return this.fileOffset + this.start;
  }

  /**
   * The next value, or undefined at the end of the file (cutShort set when
   * the file ends inside a value). Throws an input error naming the offset
   * for bytes that are not an acceptable MessagePack value.
   * `onBytes` sees the value's raw bytes before decoding (for hashing).
   */
  next(): RawValue | undefined {
    for (;;) {
      if (this.start === this.end && !this.fill()) return undefined;
      const m = measureValue(this.buf, this.start, this.end);
      if (typeof m === 'number') {
        const offset = this.offset;
        let value: unknown;
        try {
          value = unpackr.unpack(this.buf.subarray(this.start, m));
        } catch (e) {
          throw inputError(`${this.path}: byte ${offset}: not a MessagePack value (${(e as Error).message.split('\n')[0]})`, 'the file is corrupt; record or generate it again');
        }
        this.start = m;
        return { value, offset };
      }
      if (m !== 'short') throw inputError(`${this.path}: byte ${this.offset}: ${m}`, 'the file is corrupt or not an allocreplay trace');
      if (!this.fill()) {
        this.cutShort = true;
        return undefined;
      }
    }
  }

  private closed = false;

  /** Closes the file (once: a second call does nothing). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

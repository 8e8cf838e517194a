/**
 * Column codecs of trace format v1: unsigned LEB128 varints ("uvarint") and
 * zigzag LEB128 ("svarint"), each column then compressed with zlib. Values
 * are integers below 2^53; arithmetic stays in float64 so nothing wraps.
 */

/** A growable byte buffer for encoding one column. */
export class ByteSink {
  buf: Uint8Array;
  len = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  private grow(need: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.len + need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): void {
    if (this.len + 1 > this.buf.length) this.grow(1);
    this.buf[this.len++] = v;
  }

  /** Unsigned LEB128; v must be a non-negative integer below 2^53. */
  uvarint(v: number): void {
    if (this.len + 8 > this.buf.length) this.grow(8);
    const b = this.buf;
    let n = this.len;
    if (v < 0x80) {
      b[n++] = v;
    } else if (v < 0x1000_0000) {
      // Fast path on 32-bit integers.
      let x = v >>> 0;
      while (x >= 0x80) {
        b[n++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      b[n++] = x;
    } else {
      let x = v;
      while (x >= 0x80) {
        b[n++] = (x % 0x80) | 0x80;
        x = Math.floor(x / 0x80);
      }
      b[n++] = x;
    }
    this.len = n;
  }

  /** Zigzag LEB128: 0, -1, 1, -2, … become 0, 1, 2, 3, … */
  svarint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  reset(): void {
    this.len = 0;
  }
}

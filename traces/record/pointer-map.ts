/**
 * Live pointer → object id, for converting pointer-level calls into events.
 * Pointers that fit a double exactly (numbers, never 0) live in an
 * open-addressing table of typed arrays — linear probing, Fibonacci hashing
 * on the address's bits (allocators align to 16, so the low bits say
 * little), deletion by backward shift so no tombstones pile up; wider
 * pointers (hex text) go to a Map. Several times faster than a Map of
 * numbers on dumps of millions of calls, and no object per entry.
 */
export class PointerMap {
  private keys = new Float64Array(1 << 12);
  private values = new Float64Array(1 << 12);
  private bits = 12;
  private count = 0;
  private readonly wide = new Map<string, number>();

  private slot(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) >>> 0;
    return Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) >>> (32 - this.bits);
  }

  /** The id stored for `key`, or undefined. */
  get(key: number | string): number | undefined {
    if (typeof key === 'string') return this.wide.get(key);
    const mask = this.keys.length - 1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = this.keys[i]!;
      if (k === key) return this.values[i]!;
      if (k === 0) return undefined;
    }
  }

  set(key: number | string, value: number): void {
    this.put(key, value);
  }

  /** Stores `value` for `key`; returns the id it replaces, or undefined (one probe where get + set take two). */
  put(key: number | string, value: number): number | undefined {
    if (typeof key === 'string') {
      const old = this.wide.get(key);
      this.wide.set(key, value);
      return old;
    }
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      const k = this.keys[i]!;
      if (k === key) {
        const old = this.values[i]!;
        this.values[i] = value;
        return old;
      }
      if (k === 0) {
        this.count++;
        this.keys[i] = key;
        this.values[i] = value;
        return undefined;
      }
    }
  }

  delete(key: number | string): void {
    this.take(key);
  }

  /** Removes `key`; returns the id it held, or undefined (one probe where get + delete take two). */
  take(key: number | string): number | undefined {
    if (typeof key === 'string') {
      const old = this.wide.get(key);
      this.wide.delete(key);
      return old;
    }
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = this.slot(key);
    while (keys[i] !== key) {
      if (keys[i] === 0) return undefined;
      i = (i + 1) & mask;
    }
    const old = this.values[i]!;
    // Backward shift: move later entries of the probe run into the hole when their home slot allows it.
    let hole = i;
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = this.slot(keys[j]!);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j]!;
        this.values[hole] = this.values[j]!;
        hole = j;
      }
    }
    keys[hole] = 0;
    this.count--;
    return old;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.bits++;
    this.keys = new Float64Array(1 << this.bits);
    this.values = new Float64Array(1 << this.bits);
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== 0) this.set(oldKeys[i]!, oldValues[i]!);
  }
}

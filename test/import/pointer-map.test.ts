import { describe, expect, it } from 'vitest';
import { Prng } from '../../traces/index.js';
import { PointerMap } from '../../traces/record/pointer-map.js';

describe('PointerMap', () => {
  it('answers like a Map through 300,000 random sets, puts, deletes, takes and gets (aligned, wide and text keys, growth)', () => {
    const r = new Prng(5);
    const m = new PointerMap();
    const ref = new Map<number | string, number>();
    let mismatches = 0;
    for (let i = 0; i < 300_000; i++) {
      const k = r.chance(0.02) ? `w${r.below(500)}` : (r.below(20_000) + 1) * (r.chance(0.5) ? 16 : 4096) + (r.chance(0.1) ? 2 ** 40 : 0);
      const op = r.below(5);
      if (op === 0) {
        m.set(k, i);
        ref.set(k, i);
      } else if (op === 1) {
        m.delete(k);
        ref.delete(k);
      } else if (op === 3) {
        // put: returns what it replaces
        if (m.put(k, i) !== ref.get(k)) mismatches++;
        ref.set(k, i);
      } else if (op === 4) {
        // take: returns what it removes
        if (m.take(k) !== ref.get(k)) mismatches++;
        ref.delete(k);
      }
      if (m.get(k) !== ref.get(k)) mismatches++;
    }
    for (const [k, v] of ref) if (m.get(k) !== v) mismatches++;
    expect(mismatches).toBe(0);
    expect(ref.size).toBeGreaterThan(5000);
  });
});

import { describe, expect, it } from 'vitest';
import { bootstrapRatioCI, compareSamples, iqr, mad, mannWhitney, median } from '../../reports/index.js';
import { Prng } from '../../traces/index.js';

/** Log-normal-ish timings around `centre` (deterministic, seeded). */
function timings(rng: Prng, n: number, centre: number, spread = 0.03): number[] {
  return Array.from({ length: n }, () => {
    // Sum of uniforms ≈ normal; skewed upwards like real timings.
    const z = (rng.u32() + rng.u32() + rng.u32() + rng.u32()) / 4294967296 - 2;
    return centre * Math.exp(spread * z * 1.7) + (rng.chance(0.05) ? centre * 0.1 : 0);
  });
}

describe('statistics', () => {
  it('median, MAD and IQR', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(mad([1, 2, 3, 4, 100])).toBe(1);
    expect(iqr([1, 2, 3, 4, 5])).toBe(2);
  });

  it('Mann–Whitney agrees with known values', () => {
    // Completely separated samples of 10: U = 0 or 100, p well below 0.001.
    const a = Array.from({ length: 10 }, (_, i) => i);
    const b = a.map((x) => x + 100);
    expect(mannWhitney(a, b).u).toBe(100);
    expect(mannWhitney(a, b).p).toBeLessThan(0.001);
    expect(mannWhitney(a, a).p).toBeGreaterThan(0.9);
  });

  it('the bootstrap CI of the ratio covers the truth and is reproducible', () => {
    const rng = new Prng(1);
    const base = timings(rng, 30, 100);
    const cand = timings(rng, 30, 110);
    const ci = bootstrapRatioCI(base, cand);
    expect(ci[0]).toBeLessThan(1.1);
    expect(ci[1]).toBeGreaterThan(1.1);
    expect(bootstrapRatioCI(base, cand)).toEqual(ci);
  });

  it('false-positive rate of the verdict is at most 5% over many identical-distribution trials', () => {
    const rng = new Prng(7);
    let flagged = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const v = compareSamples(timings(rng, 10, 100), timings(rng, 10, 100), { thresholdPct: 2, exact: false, seed: t });
      if (v.verdict !== 'no change') flagged++;
    }
    expect(flagged / trials).toBeLessThanOrEqual(0.05);
  });

  it('finds a planted 10% slowdown nearly always (power)', () => {
    const rng = new Prng(11);
    let found = 0;
    const trials = 100;
    for (let t = 0; t < trials; t++) {
      const v = compareSamples(timings(rng, 10, 100), timings(rng, 10, 110), { thresholdPct: 2, exact: false, seed: t });
      if (v.verdict === 'regression') found++;
    }
    expect(found / trials).toBeGreaterThanOrEqual(0.9);
  });

  it('instruction counts are exact: one sample decides', () => {
    expect(compareSamples([1000], [1030], { thresholdPct: 2, exact: true }).verdict).toBe('regression');
    expect(compareSamples([1000], [1010], { thresholdPct: 2, exact: true }).verdict).toBe('no change');
    expect(compareSamples([1000], [900], { thresholdPct: 2, exact: true }).verdict).toBe('improvement');
  });
});

import { describe, expect, it } from 'vitest';
import { bootstrapMedianCI, bootstrapRatioCI, compareSamples, iqr, mad, mannWhitney, median, quantile, seededRandom, summarize } from '../../reports/index.js';

/** Standard normal draws (Box–Muller) from a seeded uniform source. */
function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

type Dist = (u: () => number, centre: number) => number;

/** Timing-like distributions with known shape, all scaled by `centre` (a planted shift multiplies it). */
const DISTS: Record<string, Dist> = {
  // Log-normal, 3% spread: the usual look of repeated timings.
  lognormal: (u, c) => c * Math.exp(0.03 * normal(u)),
  // Right-skewed with rare slow outliers (5% of samples 10–40% slower: interrupts, page faults).
  outliers: (u, c) => c * Math.exp(0.02 * normal(u)) * (u() < 0.05 ? 1.1 + 0.3 * u() : 1),
  // Quantised to 1% steps: many ties, as clock granularity gives.
  ties: (u, c) => c * (1 + Math.round(2 * normal(u)) / 100),
};

const draw = (u: () => number, d: Dist, n: number, centre: number): number[] => Array.from({ length: n }, () => d(u, centre));

/** Share of `trials` comparisons of n vs n samples (candidate centre ×shift) with each verdict. */
function rates(dist: Dist, n: number, shift: number, trials: number, thresholdPct: number, seed: number): { regression: number; improvement: number } {
  const u = seededRandom(seed);
  let regression = 0;
  let improvement = 0;
  for (let t = 0; t < trials; t++) {
    const v = compareSamples(draw(u, dist, n, 100), draw(u, dist, n, 100 * shift), { thresholdPct, exact: false, seed: t, resamples: 1000 }).verdict;
    if (v === 'regression') regression++;
    if (v === 'improvement') improvement++;
  }
  return { regression: regression / trials, improvement: improvement / trials };
}

describe('statistics', () => {
  it('median, MAD, IQR, quantile, summary', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(mad([1, 2, 3, 4, 100])).toBe(1);
    expect(iqr([1, 2, 3, 4, 5])).toBe(2);
    expect(quantile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(summarize([3, 1, 2])).toEqual({ n: 3, median: 2, mad: 1, iqr: 1, min: 1, max: 3 });
  });

  it('Mann–Whitney matches SciPy (asymptotic, continuity and tie corrected)', () => {
    // Reference p values: scipy.stats.mannwhitneyu(a, b, method='asymptotic', use_continuity=True); U there is a's.
    const sep = mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(sep.u).toBe(25);
    expect(sep.p).toBeCloseTo(0.012185780355344813, 6);
    const tied = mannWhitney([1, 2, 2, 3, 3, 3, 4], [2, 3, 4, 4, 5, 5, 6, 7]);
    expect(tied.u).toBe(7 * 8 - 8.5);
    expect(tied.p).toBeCloseTo(0.025279736885893914, 6);
    const close = mannWhitney([10.1, 10.3, 9.8, 10.0, 10.2, 10.4, 9.9, 10.0], [10.5, 10.6, 10.2, 10.9, 10.4, 10.8, 10.7, 11.0]);
    expect(close.p).toBeCloseTo(0.002702252061104255, 6);
    expect(mannWhitney([1, 1, 1], [1, 1, 1]).p).toBe(1);
    expect(mannWhitney([], [1]).p).toBe(1);
  });

  it('the bootstrap CI of the ratio covers the truth, is reproducible, and depends on the seed', () => {
    const u = seededRandom(1);
    const base = draw(u, DISTS.lognormal!, 30, 100);
    const cand = draw(u, DISTS.lognormal!, 30, 110);
    const ci = bootstrapRatioCI(base, cand);
    expect(ci[0]).toBeLessThan(1.1);
    expect(ci[1]).toBeGreaterThan(1.1);
    expect(ci[0]).toBeGreaterThan(1.05);
    expect(bootstrapRatioCI(base, cand)).toEqual(ci);
    expect(bootstrapRatioCI(base, cand, { seed: 2 })).not.toEqual(ci);
    const m = bootstrapMedianCI(base);
    expect(m[0]).toBeLessThanOrEqual(median(base));
    expect(m[1]).toBeGreaterThanOrEqual(median(base));
  });

  // Identical distributions: every verdict other than "no change" is a false positive.
  it.each(Object.keys(DISTS))('false-positive rate ≤ 5%% over 500 identical-distribution trials (%s), even at threshold 0', (name) => {
    for (const thresholdPct of [0, 2]) {
      const r = rates(DISTS[name]!, 10, 1, 500, thresholdPct, 1000 + thresholdPct);
      expect(r.regression + r.improvement).toBeLessThanOrEqual(0.05);
    }
  });

  it.each(Object.keys(DISTS))('power: a planted 10%% slowdown is found in ≥ 90%% of 200 trials (%s), a 10%% speedup likewise', (name) => {
    const slow = rates(DISTS[name]!, 10, 1.1, 200, 2, 7);
    expect(slow.regression).toBeGreaterThanOrEqual(0.9);
    expect(slow.improvement).toBe(0);
    const fast = rates(DISTS[name]!, 10, 1 / 1.1, 200, 2, 8);
    expect(fast.improvement).toBeGreaterThanOrEqual(0.9);
  });

  it('a shift inside the threshold is no change (the CI must clear 1 + threshold)', () => {
    const r = rates(DISTS.lognormal!, 10, 1.01, 200, 2, 9);
    expect(r.regression).toBeLessThanOrEqual(0.05);
  });

  it('instruction counts are exact: one sample decides', () => {
    expect(compareSamples([1000], [1030], { thresholdPct: 2, exact: true }).verdict).toBe('regression');
    expect(compareSamples([1000], [1020], { thresholdPct: 2, exact: true }).verdict).toBe('no change');
    expect(compareSamples([1000], [1010], { thresholdPct: 2, exact: true }).verdict).toBe('no change');
    expect(compareSamples([1000], [900], { thresholdPct: 2, exact: true }).verdict).toBe('improvement');
    const c = compareSamples([1000], [1030], { thresholdPct: 2, exact: true });
    expect(c.ci).toEqual([1.03, 1.03]);
    expect(c.deltaPct).toBeCloseTo(3, 10);
  });

  it('too few timing samples or an empty side gives no change, with a note', () => {
    const few = compareSamples([100, 101, 99], [150, 151, 149], { thresholdPct: 2, exact: false });
    expect(few.verdict).toBe('no change');
    expect(few.note).toMatch(/too few samples/);
    const empty = compareSamples([], [1, 2], { thresholdPct: 2, exact: false });
    expect(empty.verdict).toBe('no change');
    expect(empty.note).toMatch(/no samples/);
  });
});

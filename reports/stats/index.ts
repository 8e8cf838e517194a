/**
 * Statistics for comparing samples: robust centre and spread, a bootstrap
 * confidence interval of the ratio of medians, the Mann–Whitney U test, and
 * the verdict rule. Deterministic: the bootstrap draws from a seeded PRNG.
 */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median absolute deviation (unscaled). */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/** Quantile with linear interpolation, q in [0, 1]. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}

export function iqr(xs: readonly number[]): number {
  return quantile(xs, 0.75) - quantile(xs, 0.25);
}

/** mulberry32: a small seeded generator for the bootstrap. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Percentile-bootstrap confidence interval of median(candidate) ÷
 * median(baseline): both samples resampled with replacement.
 */
export function bootstrapRatioCI(baseline: readonly number[], candidate: readonly number[], opts: { level?: number; resamples?: number; seed?: number } = {}): [number, number] {
  const level = opts.level ?? 0.95;
  const n = opts.resamples ?? 2000;
  const next = rng(opts.seed ?? 42);
  const draw = (xs: readonly number[]): number[] => xs.map(() => xs[Math.floor(next() * xs.length)]!);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(median(draw(candidate)) / median(draw(baseline)));
  const a = (1 - level) / 2;
  return [quantile(ratios, a), quantile(ratios, 1 - a)];
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 through erf). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Two-sided Mann–Whitney U test, normal approximation with tie correction
 * and continuity correction. Returns U (of the candidate) and p.
 */
export function mannWhitney(baseline: readonly number[], candidate: readonly number[]): { u: number; p: number } {
  const n1 = baseline.length;
  const n2 = candidate.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, p: 1 };
  const all = [...baseline.map((v) => ({ v, g: 0 })), ...candidate.map((v) => ({ v, g: 1 }))].sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(all.length);
  let tie = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[k] = r;
    const t = j - i + 1;
    tie += t * t * t - t;
    i = j + 1;
  }
  let r2 = 0;
  all.forEach((x, i) => {
    if (x.g === 1) r2 += ranks[i]!;
  });
  const u = r2 - (n2 * (n2 + 1)) / 2;
  const mu = (n1 * n2) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tie / (n * (n - 1))));
  if (sigma === 0) return { u, p: 1 };
  const z = (Math.abs(u - mu) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))) };
}

export type Verdict = 'regression' | 'improvement' | 'no change';

export interface Comparison {
  baselineMedian: number;
  candidateMedian: number;
  /** (candidate − baseline) ÷ baseline, percent. */
  deltaPct: number;
  /** 95% CI of the ratio candidate ÷ baseline (equal bounds for exact metrics). */
  ci: [number, number];
  p: number;
  verdict: Verdict;
  exact: boolean;
}

/**
 * The verdict rule. Exact metrics (instruction counts): the delta decides
 * against the threshold. Timings: a regression needs the whole 95% CI of the
 * ratio above 1 + threshold, and Mann–Whitney p < 0.05; an improvement the
 * CI below 1 − threshold and p < 0.05; anything else is "no change". Lower
 * is better for every metric allocreplay stores.
 */
export function compareSamples(baseline: readonly number[], candidate: readonly number[], opts: { thresholdPct: number; exact: boolean; seed?: number }): Comparison {
  const b = median(baseline);
  const c = median(candidate);
  const deltaPct = ((c - b) / b) * 100;
  const t = opts.thresholdPct / 100;
  if (opts.exact) {
    const verdict: Verdict = deltaPct > opts.thresholdPct ? 'regression' : deltaPct < -opts.thresholdPct ? 'improvement' : 'no change';
    return { baselineMedian: b, candidateMedian: c, deltaPct, ci: [c / b, c / b], p: c === b ? 1 : 0, verdict, exact: true };
  }
  const ci = bootstrapRatioCI(baseline, candidate, { seed: opts.seed ?? 42 });
  const { p } = mannWhitney(baseline, candidate);
  let verdict: Verdict = 'no change';
  if (ci[0] > 1 + t && p < 0.05) verdict = 'regression';
  else if (ci[1] < 1 - t && p < 0.05) verdict = 'improvement';
  return { baselineMedian: b, candidateMedian: c, deltaPct, ci, p, verdict, exact: false };
}

/** Percentile-bootstrap 95% CI of one sample's median. */
export function bootstrapMedianCI(xs: readonly number[], seed = 7): [number, number] {
  if (xs.length < 2) return [xs[0] ?? NaN, xs[0] ?? NaN];
  const next = rng(seed);
  const meds: number[] = [];
  for (let i = 0; i < 1000; i++) meds.push(median(xs.map(() => xs[Math.floor(next() * xs.length)]!)));
  return [quantile(meds, 0.025), quantile(meds, 0.975)];
}

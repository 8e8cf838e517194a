/**
 * Statistics for comparing samples: robust centre and spread, a bootstrap
 * confidence interval of the ratio of medians, the Mann–Whitney U test, and
 * the verdict rule. Deterministic: the bootstrap draws from its own seeded
 * PRNG, so the same samples always give the same CI and verdict.
 */

const ascending = (a: number, b: number): number => a - b;

/** Median; NaN for an empty sample. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort(ascending);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median absolute deviation from the median (unscaled: multiply by 1.4826 for σ of a normal). */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/** Quantile with linear interpolation between order statistics (R type 7), q in [0, 1]. */
export function quantile(xs: readonly number[], q: number): number {
  return sortedQuantile([...xs].sort(ascending), q);
}

function sortedQuantile(s: readonly number[], q: number): number {
  if (s.length === 0) return NaN;
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}

/** Interquartile range (Q3 − Q1). */
export function iqr(xs: readonly number[]): number {
  return quantile(xs, 0.75) - quantile(xs, 0.25);
}

/** A sample summarised the way reports print it: `median ± MAD`, min … max. */
export interface Summary {
  n: number;
  median: number;
  mad: number;
  iqr: number;
  min: number;
  max: number;
}

/** n, median, MAD, IQR, min and max of a sample. */
export function summarize(xs: readonly number[]): Summary {
  return { n: xs.length, median: median(xs), mad: mad(xs), iqr: iqr(xs), min: xs.length ? Math.min(...xs) : NaN, max: xs.length ? Math.max(...xs) : NaN };
}

/** mulberry32: a small seeded generator, uniform in [0, 1). Same seed ⇒ same stream everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Median of a resample of `xs` drawn into `buf` (reused: no allocation per draw). */
function resampledMedian(xs: readonly number[], buf: number[], next: () => number): number {
  for (let i = 0; i < xs.length; i++) buf[i] = xs[Math.floor(next() * xs.length)]!;
  buf.sort(ascending);
  const m = buf.length >> 1;
  return buf.length % 2 ? buf[m]! : (buf[m - 1]! + buf[m]!) / 2;
}

/** Options of the bootstrap. */
export interface BootstrapOptions {
  /** Confidence level, default 0.95. */
  level?: number;
  /** Resamples, default 2000. */
  resamples?: number;
  /** PRNG seed, default 42. */
  seed?: number;
}

/**
 * Percentile-bootstrap confidence interval of a statistic of several
 * samples' medians: each sample is resampled independently with
 * replacement (in the order given), `statistic` is taken of the resampled
 * medians. [NaN, NaN] when any sample is empty.
 */
export function bootstrapMediansCI(samples: readonly (readonly number[])[], statistic: (medians: readonly number[]) => number, opts: BootstrapOptions = {}): [number, number] {
  if (samples.some((s) => s.length === 0)) return [NaN, NaN];
  const level = opts.level ?? 0.95;
  const n = opts.resamples ?? 2000;
  const next = seededRandom(opts.seed ?? 42);
  const bufs = samples.map((s) => new Array<number>(s.length));
  const medians = new Array<number>(samples.length);
  const stats = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < samples.length; k++) medians[k] = resampledMedian(samples[k]!, bufs[k]!, next);
    stats[i] = statistic(medians);
  }
  // A statistic undefined for a resample (NaN) is left out of the percentiles.
  const kept = stats.some(Number.isNaN) ? stats.filter((v) => !Number.isNaN(v)) : stats;
  if (!kept.length) return [NaN, NaN];
  kept.sort(ascending);
  const a = (1 - level) / 2;
  return [sortedQuantile(kept, a), sortedQuantile(kept, 1 - a)];
}

/**
 * Percentile-bootstrap confidence interval of median(candidate) ÷
 * median(baseline): both samples are resampled independently with
 * replacement. [NaN, NaN] when either sample is empty.
 */
export function bootstrapRatioCI(baseline: readonly number[], candidate: readonly number[], opts: BootstrapOptions = {}): [number, number] {
  return bootstrapMediansCI([candidate, baseline], ([c, b]) => c! / b!, opts);
}

/** Percentile-bootstrap CI of median(candidate) − median(baseline). */
export function bootstrapDiffCI(baseline: readonly number[], candidate: readonly number[], opts: BootstrapOptions = {}): [number, number] {
  return bootstrapMediansCI([candidate, baseline], ([c, b]) => c! - b!, opts);
}

/**
 * Percentile-bootstrap CI of a share: (median(replayCandidate) −
 * median(replayBaseline)) ÷ (median(liveCandidate) − median(liveBaseline)).
 * Resamples whose live difference is 0 are left out.
 */
export function bootstrapShareCI(liveBaseline: readonly number[], liveCandidate: readonly number[], replayBaseline: readonly number[], replayCandidate: readonly number[], opts: BootstrapOptions = {}): [number, number] {
  return bootstrapMediansCI([liveCandidate, liveBaseline, replayCandidate, replayBaseline], ([lc, lb, rc, rb]) => (lc === lb ? NaN : (rc! - rb!) / (lc! - lb!)), opts);
}

/**
 * Kendall's τ-b between two orderings of the same items (ties allowed):
 * +1 when they order every pair alike, −1 when they order every pair
 * oppositely. null for fewer than two items, or when either side is all ties.
 */
export function kendallTau(x: readonly number[], y: readonly number[]): number | null {
  const n = Math.min(x.length, y.length);
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  const denom = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denom ? (concordant - discordant) / denom : null;
}

/** Percentile-bootstrap CI of one sample's median (error bars). */
export function bootstrapMedianCI(xs: readonly number[], seed = 7, opts: { level?: number; resamples?: number } = {}): [number, number] {
  if (xs.length < 2) return [xs[0] ?? NaN, xs[0] ?? NaN];
  const next = seededRandom(seed);
  const buf = new Array<number>(xs.length);
  const meds = new Array<number>(opts.resamples ?? 1000);
  for (let i = 0; i < meds.length; i++) meds[i] = resampledMedian(xs, buf, next);
  meds.sort(ascending);
  const a = (1 - (opts.level ?? 0.95)) / 2;
  return [sortedQuantile(meds, a), sortedQuantile(meds, 1 - a)];
}

/** Complementary error function (Numerical Recipes erfcc: relative error < 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Upper tail of the standard normal, P(Z > z). */
export function normalUpperTail(z: number): number {
  return erfc(z / Math.SQRT2) / 2;
}

/**
 * Two-sided Mann–Whitney U test, normal approximation with tie correction
 * and continuity correction (as R `wilcox.test(exact = FALSE)` and SciPy
 * `mannwhitneyu(method='asymptotic')`). `u` is the candidate's U: n1·n2 when
 * every candidate value exceeds every baseline value, 0 when none does.
 * p = 1 when either sample is empty or every value is tied.
 */
export function mannWhitney(baseline: readonly number[], candidate: readonly number[]): { u: number; z: number; p: number } {
  const n1 = baseline.length;
  const n2 = candidate.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, z: 0, p: 1 };
  const all = [...baseline.map((v) => ({ v, g: 0 })), ...candidate.map((v) => ({ v, g: 1 }))].sort((a, b) => a.v - b.v);
  let r2 = 0;
  let tie = 0; // Σ (t³ − t) over groups of tied values
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k]!.g === 1) r2 += rank;
    const t = j - i + 1;
    tie += t * t * t - t;
    i = j + 1;
  }
  const u = r2 - (n2 * (n2 + 1)) / 2;
  const mu = (n1 * n2) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tie / (n * (n - 1))));
  if (!(sigma > 0)) return { u, z: 0, p: 1 };
  const d = u - mu;
  const z = (Math.sign(d) * Math.max(0, Math.abs(d) - 0.5)) / sigma;
  return { u, z, p: Math.min(1, 2 * normalUpperTail(Math.abs(z))) };
}

/** What a comparison concludes. Lower is better for every metric allocreplay stores. */
export type Verdict = 'regression' | 'improvement' | 'no change';

/** Significance level of the verdict rule. */
export const ALPHA = 0.05;

/** The outcome of comparing a candidate's samples with a baseline's. */
export interface Comparison {
  baselineMedian: number;
  candidateMedian: number;
  /** (candidate − baseline) ÷ baseline of the medians, percent. */
  deltaPct: number;
  /** 95% CI of the ratio candidate ÷ baseline (both bounds = the ratio for exact metrics). */
  ci: [number, number];
  /** Two-sided Mann–Whitney p (exact metrics: 0 when the values differ, 1 when equal — not a test). */
  p: number;
  verdict: Verdict;
  /** True for instruction counts: one sample decides, no test. */
  exact: boolean;
  /** Why a verdict could not be reached, when that is the case (too few samples, no positive baseline). */
  note?: string;
}

/** Options of the verdict rule. */
export interface VerdictOptions {
  /** Percent: differences within ±threshold are "no change". */
  thresholdPct: number;
  /** Instruction counts (exact) vs timings (noisy). */
  exact: boolean;
  /** Bootstrap seed (default 42). */
  seed?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
}

/**
 * The verdict rule.
 *
 * Exact metrics (instruction counts; deterministic, so one sample decides):
 * delta = (c − b) ÷ b of the medians; regression when delta > +threshold,
 * improvement when delta < −threshold, else no change.
 *
 * Timings (noisy): CI = percentile-bootstrap 95% interval of
 * median(candidate) ÷ median(baseline), p = two-sided Mann–Whitney.
 *  - regression  ⇔ CI lower bound > 1 + threshold  AND p < 0.05
 *  - improvement ⇔ CI upper bound < 1 − threshold  AND p < 0.05
 *  - otherwise no change.
 * Both must hold: the CI says the shift exceeds the threshold with 95%
 * confidence, the rank test guards against a bootstrap interval that is too
 * narrow for small samples. The rule is conservative: a true shift just
 * above the threshold usually reads "no change" — add repetitions to
 * resolve it. Below 4 samples a side, p never reaches 0.05 (no verdict).
 */
export function compareSamples(baseline: readonly number[], candidate: readonly number[], opts: VerdictOptions): Comparison {
  const b = median(baseline);
  const c = median(candidate);
  const deltaPct = ((c - b) / b) * 100;
  const t = opts.thresholdPct / 100;
  if (!(b > 0) || !Number.isFinite(c)) {
    const note = baseline.length && candidate.length ? 'baseline median is not positive' : 'a side has no samples';
    return { baselineMedian: b, candidateMedian: c, deltaPct: NaN, ci: [NaN, NaN], p: 1, verdict: 'no change', exact: opts.exact, note };
  }
  if (opts.exact) {
    const verdict: Verdict = deltaPct > opts.thresholdPct ? 'regression' : deltaPct < -opts.thresholdPct ? 'improvement' : 'no change';
    return { baselineMedian: b, candidateMedian: c, deltaPct, ci: [c / b, c / b], p: c === b ? 1 : 0, verdict, exact: true };
  }
  const ci = bootstrapRatioCI(baseline, candidate, { seed: opts.seed ?? 42, ...(opts.resamples ? { resamples: opts.resamples } : {}) });
  const { p } = mannWhitney(baseline, candidate);
  let verdict: Verdict = 'no change';
  if (ci[0] > 1 + t && p < ALPHA) verdict = 'regression';
  else if (ci[1] < 1 - t && p < ALPHA) verdict = 'improvement';
  // With 3 + 3 samples the smallest two-sided p is 0.08.
  const note = Math.min(baseline.length, candidate.length) < 4 ? 'too few samples for a verdict (need ≥ 4 per side)' : undefined;
  return { baselineMedian: b, candidateMedian: c, deltaPct, ci, p, verdict, exact: false, ...(note ? { note } : {}) };
}

/** Timing helpers the benchmarks share. */

/** Wall seconds of `f`, the fastest of `times` runs (what a busy machine inflates least). */
export function fastest(times: number, f: () => void): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const t = process.hrtime.bigint();
    f();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
  }
  return best;
}

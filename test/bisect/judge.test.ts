import { describe, expect, it } from 'vitest';
import { attribute, type FunctionCost, judgeStep } from '../../engine/index.js';
import { seededRandom } from '../../reports/index.js';

/** n draws around `centre` with ±`spread` uniform noise, seeded. */
function sample(centre: number, spread: number, n: number, seed: number): number[] {
  const next = seededRandom(seed);
  return Array.from({ length: n }, () => centre + (next() * 2 - 1) * spread);
}

describe('judging the final step of a time bisection', () => {
  it('a step inside the noise is within noise, even when its medians differ by more than the threshold', () => {
    const good = sample(100, 20, 30, 1);
    const bad = sample(103, 20, 30, 2);
    const j = judgeStep(good, bad, 2, 'regression');
    expect(j.verdict).toBe('no change');
    expect(j.withinNoise).toBe(true);
    expect(j.ci[0]).toBeLessThan(1.02);
  });

  it('a clear step is confirmed in its direction, and only in it', () => {
    const good = sample(100, 2, 30, 3);
    const bad = sample(130, 2, 30, 4);
    const up = judgeStep(good, bad, 2, 'regression');
    expect(up).toMatchObject({ verdict: 'regression', withinNoise: false });
    expect(up.p).toBeLessThan(0.05);
    expect(up.ci[0]).toBeGreaterThan(1.02);
    // The same step, looked for as an improvement, is not one.
    expect(judgeStep(good, bad, 2, 'improvement').withinNoise).toBe(true);
    expect(judgeStep(bad, good, 2, 'improvement')).toMatchObject({ verdict: 'improvement', withinNoise: false });
  });

  it('too few repetitions cannot confirm anything, and say why', () => {
    const j = judgeStep([100, 101, 100], [200, 201, 199], 2, 'regression');
    expect(j.withinNoise).toBe(true);
    expect(j.note).toMatch(/too few samples/);
  });
});

describe('attribution rows', () => {
  const f = (fn: string, selfIr: number, inclIr: number): FunctionCost => ({ function: fn, selfIr, inclIr });

  it('one row per function: `???:` and symbol versions merged, zero self deltas dropped', () => {
    const good = [f('(below main)', 0, 900), f('???:(below main)', 0, 900), f('main', 0, 1000), f('ts_alloc', 500, 600), f('__libc_start_main@@GLIBC_2.34', 0, 900), f('memset', 10, 10)];
    const bad = [f('(below main)', 0, 1200), f('???:(below main)', 0, 1200), f('main', 0, 1300), f('ts_alloc', 700, 900), f('__libc_start_main', 5, 1205), f('???:memset', 5, 5), f('memset', 5, 5)];
    const rows = attribute(good, bad);
    expect(rows.map((r) => [r.function, r.selfDelta, r.inclDelta])).toEqual([
      ['ts_alloc', 200, 300],
      ['__libc_start_main', 5, 305],
    ]);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claim, renderDemo, summaryParagraph, sweepClaim } from '../../cli/demo.js';
import { changeOf, type DemoResult, pooledChange, sweepAnswer, type SweepPoint } from '../../engine/index.js';
import { ROOT } from '../helpers.js';

/** Repetitions around `centre` ns/op, spread ±`spread` (deterministic). */
const around = (centre: number, spread: number, n = 12): number[] => Array.from({ length: n }, (_, i) => centre + spread * Math.sin(i * 2.4));
const point = (value: string, samples: number[], fallbacks: number): SweepPoint => ({ trace: 'random-mixed-8192', value, nsPerOp: undefined, samples, fallbacks });

describe('the demo names a winner only when its interval says so', () => {
  it('withholds "best" when the caps overlap, and gives the interval instead', () => {
    const points = [point('8', around(30, 4), 900), point('32', around(29, 4), 120), point('256', around(28, 4), 0)];
    const a = sweepAnswer(points, 'random-mixed-8192', '32')!;
    expect(a.best.value).toBe('256');
    expect(a.clear).toBe(false);
    const text = sweepClaim('TS_SOFT_CAP', a);
    expect(text).toMatch(/no TS_SOFT_CAP is clearly fastest: 256 against 32, no clear difference \(±\d+\.\d%\)/);
    expect(text).not.toMatch(/ wins:|is fastest:/);
  });

  it('names the winner with its interval and the fallbacks it removes when the intervals are apart', () => {
    const points = [point('8', around(60, 1), 900), point('32', around(40, 1), 120), point('256', around(20, 1), 0)];
    const text = sweepClaim('TS_SOFT_CAP', sweepAnswer(points, 'random-mixed-8192', '32'));
    expect(text).toMatch(/TS_SOFT_CAP=256 wins: \d\.\d+ ± 0\.\d+× faster than the default 32, 120 fewer fallbacks \(120 → 0\)/);
  });

  it('a default that is best is called so only when it is clearly ahead of the runner-up', () => {
    const close = sweepAnswer([point('32', around(20, 3), 0), point('64', around(20.5, 3), 0)], 'random-mixed-8192', '32')!;
    expect(sweepClaim('TS_SOFT_CAP', close)).toMatch(/no TS_SOFT_CAP is clearly fastest/);
    const apart = sweepAnswer([point('32', around(20, 0.5), 0), point('64', around(30, 0.5), 0)], 'random-mixed-8192', '32')!;
    expect(sweepClaim('TS_SOFT_CAP', apart)).toMatch(/the default TS_SOFT_CAP=32 is fastest: 1\.\d+ ± 0\.\d+× faster than 64/);
  });

  it('"slower", "faster" and "gain" come with an interval, or as no clear difference', () => {
    expect(claim(changeOf(around(20, 4), around(21, 4)))).toMatch(/^no clear difference \(±\d+\.\d%\)$/);
    expect(claim(changeOf(around(20, 0.5), around(23, 0.5)))).toMatch(/^\+1\d\.\d%: 1\.1\d ± 0\.\d\d× slower$/);
    expect(claim(changeOf(around(20, 0.5), around(17, 0.5)))).toMatch(/× faster$/);
    expect(claim(changeOf([100], [108], true))).toBe('+8.0% (exact)');
    // Pooled over traces: the geometric mean of the ratios; two overlapping traces give no claim either.
    const pooled = pooledChange([{ plain: around(20, 3), pgo: around(19.5, 3) }, { plain: around(10, 2), pgo: around(10.2, 2) }])!;
    expect(pooled.ci[0]).toBeLessThan(1);
    expect(pooled.ci[1]).toBeGreaterThan(1);
    expect(claim(pooled)).toMatch(/^no clear difference/);
  });
});

describe('the demo output', () => {
  // A DemoResult the demo itself produced (stored once from a real run, as --json cannot hold every field).
  const fixture = join(ROOT, 'test/demo/fixtures/demo-result.json');
  it.runIf(existsSync(fixture))('fits 120 columns on every line, and names no winner without an interval', () => {
    const r = JSON.parse(readFileSync(fixture, 'utf8')) as DemoResult;
    const text = renderDemo(r, '/tmp/allocreplay-demo/report.html');
    const wide = text.split('\n').filter((l) => l.replace(/\x1b\[[0-9;]*m/g, '').length > 120);
    expect(wide).toEqual([]);
    expect(text).not.toMatch(/★|best:/);
    for (const l of summaryParagraph(r).split(/(?<=\.) /)) if (/slower|faster/.test(l)) expect(l).toMatch(/±|no clear difference/);
  });
});

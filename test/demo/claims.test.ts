import { readFileSync } from 'node:fs';
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

  it('caps that tie with the best are named together, and none of them is called the winner', () => {
    const points = [point('32', around(40, 1), 1841), point('64', around(20.4, 3), 0), point('128', around(20.8, 3), 0), point('256', around(20, 3), 0)];
    const text = sweepClaim('TS_SOFT_CAP', sweepAnswer(points, 'random-mixed-8192', '32'));
    expect(text).toMatch(/TS_SOFT_CAP 64, 128, 256 tie \(no clear difference among them\); the best is \d\.\d+ ± 0\.\d+× faster than the default 32, and the least, 64, already has 1,841 fewer fallbacks \(1,841 → 0\)/);
    expect(text).not.toMatch(/ wins:/);
  });

  it('a default that is best is called so only when it is clearly ahead of the runner-up', () => {
    const close = sweepAnswer([point('32', around(20, 3), 0), point('64', around(20.5, 3), 0)], 'random-mixed-8192', '32')!;
    expect(sweepClaim('TS_SOFT_CAP', close)).toMatch(/no TS_SOFT_CAP is clearly fastest/);
    const apart = sweepAnswer([point('32', around(20, 0.5), 0), point('64', around(30, 0.5), 0)], 'random-mixed-8192', '32')!;
    expect(sweepClaim('TS_SOFT_CAP', apart)).toMatch(/the default TS_SOFT_CAP=32 is fastest: 1\.\d+ ± 0\.\d+× faster than 64/);
  });

  it('"slower", "faster" and "gain" come with an interval, or as no clear difference', () => {
    expect(claim(changeOf(around(20, 4), around(21, 4)))).toMatch(/^no clear difference \(±\d+\.\d%\)$/);
    expect(claim(changeOf(around(20, 0.5), around(23, 0.5)))).toMatch(/^\+1\d\.\d% ns\/op: 1\.1\d ± 0\.\d\d× slower$/);
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
  // A DemoResult the demo itself produced on 2 cores (`allocreplay demo`, then runDemo again on its store, which
  // measures nothing), so the text is rendered from real figures without running the demo here.
  const r = JSON.parse(readFileSync(join(ROOT, 'test/demo/fixtures/demo-result.json'), 'utf8')) as DemoResult;

  it('fits 120 columns on every line, and names no winner without an interval', () => {
    const text = renderDemo(r, '/tmp/allocreplay-demo/report.html');
    const wide = text.split('\n').filter((l) => l.replace(/\x1b\[[0-9;]*m/g, '').length > 120);
    expect(wide).toEqual([]);
    expect(text).not.toMatch(/★|best:/);
    for (const sentence of summaryParagraph(r).split(/(?<=\.) /)) if (/slower|faster|wins/.test(sentence)) expect(sentence).toMatch(/±/);
  });

  it('the summary withholds the soft cap\'s winner when the caps overlap at 8192 slots', () => {
    const planted = [point('32', around(29, 4), 1841), point('64', around(28, 4), 0), point('256', around(28.5, 4), 0)];
    const summary = summaryParagraph({ ...r, sweep: { ...r.sweep, points: planted, answer: sweepAnswer(planted, 'random-mixed-8192', '32') } });
    expect(summary).toMatch(/At random-mixed-8192 no TS_SOFT_CAP is clearly fastest: 64 against 32, no clear difference \(±\d+\.\d%\)\./);
    expect(summary).not.toMatch(/TS_SOFT_CAP=\d+ wins/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ratioWithUncertainty, timingWarnings } from '../../reports/index.js';
import { cli, tempDir } from '../helpers.js';

const ms = 1e6;

describe('ratios with their uncertainty', () => {
  it('says the ratio ± half its CI, or that there is no clear difference', () => {
    expect(ratioWithUncertainty(1.2, [1.1, 1.3])).toBe('1.20 ± 0.10× slower');
    expect(ratioWithUncertainty(0.8, [0.75, 0.85])).toBe('1.25 ± 0.08× faster');
    expect(ratioWithUncertainty(1.05, [0.93, 1.17])).toBe('no clear difference (0.93 … 1.17)');
    expect(ratioWithUncertainty(1.05, [NaN, NaN])).toBe('1.05× slower');
    expect(ratioWithUncertainty(1.03, [1.01, 2.44])).toBe('1.03× slower (95% CI 1.01 … 2.44)');
  });
});

describe('warnings on doubtful timings', () => {
  const steady = (n: number, ns = 20, wallNs = 50 * ms) => Array.from({ length: n }, (_, i) => ({ nsPerOp: ns + (i % 3) * 0.1, wallNs }));
  it('none for steady, long samples', () => {
    expect(timingWarnings(steady(10))).toEqual([]);
  });
  it('a short timed region', () => {
    expect(timingWarnings(steady(10, 20, 0.5 * ms))).toEqual([{ kind: 'short', text: 'timed region only 0.50 ms' }]);
  });
  it('a cold first repetition, and it is an outlier', () => {
    const w = timingWarnings([{ nsPerOp: 60, wallNs: 150 * ms }, ...steady(9)]);
    expect(w).toContainEqual({ kind: 'cold', text: 'first repetition 3.0× slower than the rest' });
    expect(w).toContainEqual({ kind: 'outliers', text: '1 statistical outlier in 10 repetitions' });
  });
  it('a high spread', () => {
    const w = timingWarnings([10, 14, 18, 22, 26, 30].map((nsPerOp) => ({ nsPerOp, wallNs: 50 * ms })));
    expect(w).toEqual([{ kind: 'spread', text: 'high spread (MAD 30% of the median, 10.00 … 30.00 ns/op)' }]);
  });
});

describe('replay and matrix tables and exports', () => {
  it('replay prints the ratio with its uncertainty, warns about a short trace, and exports json, markdown and csv', () => {
    const dir = tempDir();
    const trace = join(dir, 'th.trace.msgpack');
    expect(cli(['generate', 'tiny-hot', '--ops', '2000', '-o', trace]).status).toBe(0);
    const out = (ext: string): string => join(dir, `out.${ext}`);
    const r = cli(['replay', trace, '-t', 'system', '-t', 'jemalloc', '--repeat', '5', '--db', join(dir, 'r.sqlite'), '--export-json', out('json'), '--export-markdown', out('md'), '--export-csv', out('csv')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout, r.stdout).toMatch(/^jemalloc .*(\d+\.\d\d ± \d+\.\d\d× (slower|faster)|\d+\.\d\d× (slower|faster) \(95% CI \d+\.\d\d … \d+\.\d\d\)|no clear difference \(\d+\.\d\d … \d+\.\d\d\))$/m);
    // 2,000 events take far less than 5 ms to replay.
    expect(r.stdout, r.stdout).toMatch(/^Warning: th × system: timed region only \d\.\d\d ms/m);
    // What to do, once under the table.
    expect(r.stdout.match(/use a longer trace \(more --ops\)/g)).toHaveLength(1);
    const exported = JSON.parse(readFileSync(out('json'), 'utf8')) as { target: string; relative: unknown; warnings: { kind: string; text: string }[] }[];
    expect(exported[0]!.warnings).toContainEqual({ kind: 'short', text: expect.stringMatching(/^timed region only/) });
    expect(exported.map((e) => e.target)).toEqual(['system', 'jemalloc']);
    expect(exported[1]!.relative).toMatchObject({ ratio: expect.any(Number) });
    expect(readFileSync(out('md'), 'utf8')).toMatch(/^\| configuration \| ns\/op \(median ± MAD\) \|/m);
    const csv = readFileSync(out('csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('trace,configuration,config_hash,status,median,mad,min,max,n,instructions,peak_rss_kib,baseline,ratio,ratio_ci_low,ratio_ci_high,warnings');
    expect(csv).toHaveLength(3);
  });

  it('matrix renders through the report renderer and exports markdown', () => {
    const dir = tempDir();
    const trace = join(dir, 'th.trace.msgpack');
    expect(cli(['generate', 'tiny-hot', '--ops', '2000', '-o', trace]).status).toBe(0);
    const md = join(dir, 'm.md');
    const r = cli(['matrix', trace, '-t', 'system', '-t', 'jemalloc', '--repeat', '4', '--db', join(dir, 'r.sqlite'), '--export-markdown', md]);
    expect(r.status, r.stderr).toBe(0);
    // ★ only for a best every other configuration is clearly slower than; otherwise the note says how close they are.
    expect(r.stdout).toMatch(/★|^th: no clear best: the lowest \d+ show no clear difference \(±\d+\.\d%\)$/m);
    expect(r.stdout).toMatch(/^jemalloc .*(≈best|×\d+\.\d\d( ± \d+\.\d\d| \(\d+\.\d\d…\d+\.\d\d\))|★)/m);
    expect(readFileSync(md, 'utf8')).toMatch(/^\| configuration \| th \|$/m);
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers.js';

describe('generate, trace info, trace validate', () => {
  const dir = tempDir();
  const a = join(dir, 'a.trace.msgpack');

  beforeAll(() => {
    for (const out of [a, join(dir, 'b.trace.msgpack')]) {
      const r = cli(['generate', 'random-mixed', '--slots', '256', '--ops', '1000000', '--seed', '42', '-o', out]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('is byte-identical across runs, has 1M events at ≤ 4 bytes each', () => {
    expect(readFileSync(a).equals(readFileSync(join(dir, 'b.trace.msgpack')))).toBe(true);
    const r = cli(['trace', 'info', a, '--json']);
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.events).toBe(1_000_000);
    expect(info.threads).toBe(1);
    expect(info.objects).toBe(500_000);
    expect(info.peakLiveBytes).toBeGreaterThan(0);
    expect(info.bytesPerEvent).toBeLessThanOrEqual(4);
  });

  it('prints a readable summary with a sparkline', () => {
    const r = cli(['trace', 'info', a]);
    expect(r.stdout).toMatch(/events\s+1,000,000/);
    expect(r.stdout).toMatch(/[▁▂▃▄▅▆▇█]{20,}/);
    expect(cli(['trace', 'validate', a]).status).toBe(0);
  });

  const bad: [string, (p: string) => void][] = [
    ['a truncated file', (p) => writeFileSync(p, readFileSync(a).subarray(0, 400_000))],
    ['an empty file', (p) => writeFileSync(p, '')],
    ['random bytes', (p) => writeFileSync(p, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff)))],
    ['a msgpack file that is not a trace', (p) => writeFileSync(p, pack({ hello: 'world', list: [1, 2, 3] }))],
    [
      'a trace with a flipped byte',
      (p) => {
        const b = readFileSync(a);
        b[b.length >> 1] ^= 0x01;
        writeFileSync(p, b);
      },
    ],
  ];
  it.each(bad)('%s gives one line on stderr and exit 1', (_, make) => {
    const p = join(dir, `bad-${Math.random()}.trace.msgpack`);
    make(p);
    const r = cli(['trace', 'validate', p]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^allocreplay: .*bad-/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a usage error exits 2', () => {
    const r = cli(['generate', 'no-such-generator', '-o', join(dir, 'x')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown generator/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../traces/index.js';
import { run } from '../bisect/repo.js';
import { tempDir } from '../helpers.js';

const dir = tempDir();
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const db = join(dir, 'sweep.sqlite');
const small = join(dir, 'rm64.trace.msgpack');
const big = join(dir, 'rm4096.trace.msgpack');

beforeAll(async () => {
  generate('random-mixed', { slots: 64, ops: 40_000, seed: 1 }, small);
  generate('random-mixed', { slots: 4096, ops: 40_000, seed: 1 }, big);
  const r = await run(['matrix', small, big, '-t', 'tinyslab', '-t', 'system', '--set', 'TS_SOFT_CAP=4,16,64', '--repeat', '2', '--db', db], env);
  expect(r.status, r.stderr).toBe(0);
});

describe('report sweep', () => {
  it('puts the flag values down and the traces across, with the soft-cap fallbacks tinyslab counted', async () => {
    const r = await run(['report', 'sweep', '--flag', 'TS_SOFT_CAP', '--db', db, '--format', 'csv'], env);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows.map((x) => `${x[1]} ${x[2]}`).sort()).toEqual(['rm4096 16', 'rm4096 4', 'rm4096 64', 'rm64 16', 'rm64 4', 'rm64 64']);
    // 4096 live blocks of up to 1 KiB need far more than 4 slabs: the smallest cap falls back, the largest does not.
    const fb = (trace: string, cap: string): number => Number(rows.find((x) => x[1] === trace && x[2] === cap)![5]);
    expect(fb('rm4096', '4')).toBeGreaterThan(0);
    expect(fb('rm4096', '64')).toBeLessThan(fb('rm4096', '4'));
    // One lowest value per line; a best is claimed only where every other value is clearly slower (at most one).
    for (const t of ['rm64', 'rm4096']) {
      expect(rows.filter((x) => x[1] === t && x[8] === 'true')).toHaveLength(1);
      expect(rows.filter((x) => x[1] === t && x[6] === 'true').length).toBeLessThanOrEqual(1);
      for (const best of rows.filter((x) => x[1] === t && x[6] === 'true')) expect(best[8]).toBe('true');
    }
    const table = await run(['report', 'sweep', '--flag', 'TS_SOFT_CAP', '--db', db], env);
    expect(table.stdout).toMatch(/^TS_SOFT_CAP\s+rm64\s+rm4096$/m);
    for (const t of ['rm64', 'rm4096']) expect(table.stdout).toMatch(new RegExp(`^${t}: (best TS_SOFT_CAP=\\d+|no clear difference \\(±\\d+\\.\\d%; lowest TS_SOFT_CAP=\\d+\\))$`, 'm'));
  });

  it('draws the line chart in HTML, and says when nothing sweeps the flag', async () => {
    const out = join(dir, 'sweep.html');
    const r = await run(['report', 'sweep', '--flag', 'TS_SOFT_CAP', '--db', db, '--format', 'html', '-o', out], env);
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).toContain('data-chart="sweep"');
    expect(html).toContain('<svg');
    const none = await run(['report', 'sweep', '--flag', 'TS_POOL', '--db', db], env);
    expect(none.status).toBe(2);
    expect(none.stderr.trim().split('\n')[0]).toMatch(/no stored time runs sweep TS_POOL/);
  });

  it('tables show throughput as a share of the system allocator', async () => {
    const r = await run(['replay', small, '-t', 'system', '-t', 'tinyslab', '--repeat', '2', '--db', join(dir, 'r.sqlite')], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('% of system');
    // Mops/s and the share side by side: the share is this row's Mops/s over the system allocator's.
    const cols = (name: string): [number, number] => {
      const m = /\s([\d.]+)\s+(\d+)%/.exec(r.stdout.split('\n').find((l) => l.startsWith(name))!)!;
      return [Number(m[1]), Number(m[2])];
    };
    const [sysMops, sysShare] = cols('system');
    const [tsMops, tsShare] = cols('tinyslab');
    expect(sysShare).toBe(100);
    expect(Math.abs(tsShare - (tsMops / sysMops) * 100)).toBeLessThan(2);
  });
});


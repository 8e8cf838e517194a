import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers.js';

/**
 * Every command's --json parses, and carries the fields its shape promises.
 * One database is filled by the commands themselves, in order.
 */
describe('--json on every command', () => {
  const dir = tempDir();
  const db = join(dir, 'r.sqlite');
  const trace = join(dir, 'rm.trace.msgpack');
  const json = (args: string[], status = 0): unknown => {
    // Everything after `--` belongs to the recorded program: --json goes before it.
    const at = args.indexOf('--');
    const r = cli(at < 0 ? [...args, '--json'] : [...args.slice(0, at), '--json', ...args.slice(at)], { cwd: dir });
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(status);
    return JSON.parse(r.stdout) as unknown;
  };
  const obj = (v: unknown): Record<string, unknown> => v as Record<string, unknown>;
  const list = (v: unknown): Record<string, unknown>[] => {
    expect(Array.isArray(v)).toBe(true);
    return v as Record<string, unknown>[];
  };

  beforeAll(() => {
    const g = obj(json(['generate', 'random-mixed', '--slots', '64', '--ops', '20000', '--seed', '3', '-o', trace]));
    expect(g).toMatchObject({ path: trace, generator: 'random-mixed', events: 20000 });
  });

  it('trace info, validate (valid and invalid), export', () => {
    expect(obj(json(['trace', 'info', trace]))).toHaveProperty('events', 20000);
    expect(obj(json(['trace', 'validate', trace]))).toMatchObject({ valid: true, events: 20000 });
    const bad = join(dir, 'bad.trace.msgpack');
    writeFileSync(bad, readFileSync(trace).subarray(0, 2000));
    const v = obj(json(['trace', 'validate', bad], 1));
    expect(v).toMatchObject({ path: bad, valid: false });
    expect(v.error).toMatch(/cut short|corrupt|decompress/);
    expect(obj(json(['trace', 'export', trace, '--format', 'aosp', '-o', join(dir, 'dump.txt')]))).toMatchObject({ format: 'aosp', lines: expect.any(Number) });
  });

  it('import aosp and mtrace', () => {
    expect(obj(json(['import', 'aosp', join(dir, 'dump.txt'), '-o', join(dir, 'a.trace.msgpack')]))).toMatchObject({ events: 20000 });
    const log = join(dir, 'm.log');
    writeFileSync(log, ['= Start', '@ ./p:[0x1] + 0x10 0x10', '@ ./p:[0x2] - 0x10', '= End', ''].join('\n'));
    expect(obj(json(['import', 'mtrace', log, '-o', join(dir, 'm.trace.msgpack')]))).toMatchObject({ events: 2 });
  });

  it('target list, show, build; doctor', () => {
    const targets = list(json(['target', 'list']));
    expect(targets.find((t) => t.name === 'system')).toMatchObject({ kind: 'system', available: true });
    expect(obj(json(['target', 'show', 'tinyslab']))).toMatchObject({ kind: 'source', name: 'tinyslab', flags: expect.any(Object) });
    expect(obj(json(['target', 'build', 'tinyslab', '--db', db]))).toMatchObject({ status: 'ok', artifactPath: expect.any(String) });
    const d = obj(json(['doctor']));
    expect(list(d.allocators)[0]).toMatchObject({ name: 'system', kind: 'system', available: true });
  });

  it('replay and matrix, with ratios and warnings', () => {
    const runs = list(json(['replay', trace, '-t', 'system', '-t', 'tinyslab', '--repeat', '4', '--db', db]));
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ target: 'system', status: 'ok', relative: null, warnings: expect.any(Array) });
    expect(runs[1]).toMatchObject({ target: 'tinyslab', relative: { to: runs[0]!.configHash, ratio: expect.any(Number), ciLow: expect.any(Number), ciHigh: expect.any(Number) } });
    const m = obj(json(['matrix', trace, '-t', 'tinyslab', '--set', 'TS_POOL=1,2', '--repeat', '4', '--db', db]));
    expect(m).toMatchObject({ configurations: 2, skipped: 1, measured: 1, builds: expect.any(Object) });
    expect(list(m.runs)).toHaveLength(2);
  });

  it('report compare, check, matrix, history, html', () => {
    const sel = ['--baseline', 'target=system', '--candidate', 'target=tinyslab TS_POOL=1', '--db', db];
    expect(list(json(['report', 'compare', ...sel]))[0]).toMatchObject({ trace: 'rm', verdict: expect.any(String), ci: expect.any(Array) });
    const check = obj(json(['report', 'check', ...sel, '--threshold', '1000']));
    expect(check).toMatchObject({ regression: false, rows: expect.any(Array) });
    expect(list(json(['report', 'matrix', '--db', db])).length).toBe(3);
    expect(Array.isArray(json(['report', 'history', '--db', db]))).toBe(true);
    expect(obj(json(['report', 'html', '-o', join(dir, 'r.html'), '--db', db]))).toHaveProperty('output');
  });

  it('db runs, query, export, merge', () => {
    // replay stored 2 runs, matrix 1 (its other configuration was the replay's).
    expect(list(json(['db', 'runs', '--db', db])).length).toBe(3);
    expect(list(json(['db', 'query', 'SELECT COUNT(*) AS n FROM runs', '--db', db]))).toEqual([{ n: 3 }]);
    const rows = list(json(['db', 'export', '--db', db]));
    expect(rows.find((r) => r.target === 'tinyslab')!.flags).toMatchObject({ TS_POOL: expect.any(String) });
    expect(obj(json(['db', 'merge', db, '--db', join(dir, 'other.sqlite')]))).toMatchObject({ runs: 3 });
  });

  it('bisect flags and bisect show', () => {
    const r = obj(json(['bisect', 'flags', '--target', 'tinyslab', '--good', 'TS_INLINE=1', '--bad', 'TS_INLINE=0', '--trace', trace, '--threshold', '0.5', '--no-attribution', '--db', db]));
    expect(r).toMatchObject({ kind: 'flags', id: expect.any(Number) });
    expect(obj(json(['bisect', 'show', String(r.id), '--db', db]))).toMatchObject({ id: r.id });
  });

  it('record', () => {
    const r = obj(json(['record', '-o', join(dir, 'rec.trace.msgpack'), '--', 'true']));
    expect(r).toMatchObject({ status: 0, traces: expect.any(Array) });
  });
});

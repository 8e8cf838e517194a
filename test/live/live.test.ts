import { execSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECORDED_REPLAY } from '../../engine/index.js';
import { compileNative, generate, openTrace, programHash } from '../../traces/index.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const db = join(dir, 'live.sqlite');
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const trace = join(dir, 'perl.trace.msgpack');
const hashBuild = ['perl', '-e', 'my %h; $h{$_} = [$_] for 1 .. 20000'];
let slow = '';

beforeAll(() => {
  slow = compileNative({ name: 'fixture-slow.so', sources: [join(ROOT, 'test/fixtures/allocators/slow.c')], shared: true });
  const r = cli(['record', '-o', trace, '--', ...hashBuild], { env, cwd: dir });
  expect(r.status, r.stderr).toBe(0);
}, 300_000);

describe('a recording knows its program', () => {
  it('stores argv, cwd, the resolved binary with its sha256, and the variables that matter', () => {
    const reader = openTrace(trace);
    const p = reader.header.program!;
    reader.close();
    expect(p.argv).toEqual(hashBuild);
    expect(p.cwd).toBe(dir);
    expect(p.binary).toMatch(/\/perl$/);
    expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof p.env).toBe('object');
  });

  it('live --from reruns the recorded command: its arguments, its working directory and its environment', () => {
    const work = tempDir();
    const rec = join(work, 'sh.trace.msgpack');
    // The program appends its hash seed to a file named relative to its working directory.
    const r = cli(['record', '-o', rec, '--', 'sh', '-c', 'echo "seed=$PYTHONHASHSEED" >> runs.txt'], { env: { ...env, PYTHONHASHSEED: '7' }, cwd: work });
    expect(r.status, r.stderr).toBe(0);
    writeFileSync(join(work, 'runs.txt'), '');
    const elsewhere = tempDir();
    const l = cli(['live', '--from', rec, '--repeat', '2', '--warmup', '1', '--db', db, '--json'], { env: { ...env, PYTHONHASHSEED: '99' }, cwd: elsewhere });
    expect(l.status, l.stderr).toBe(0);
    expect(readFileSync(join(work, 'runs.txt'), 'utf8')).toBe('seed=7\nseed=7\nseed=7\n');
    expect(existsSync(join(elsewhere, 'runs.txt'))).toBe(false);
    const [o] = JSON.parse(l.stdout);
    expect(o.status).toBe('ok');
    expect(o.samples).toHaveLength(2);
  });

  it('a binary that changed since the recording is refused with one line', () => {
    const work = tempDir();
    const bin = join(work, 'true-copy');
    copyFileSync('/bin/true', bin);
    chmodSync(bin, 0o755);
    const rec = join(work, 'true.trace.msgpack');
    expect(cli(['record', '-o', rec, '--', bin], { env, cwd: work }).status).toBe(0);
    writeFileSync(bin, Buffer.concat([readFileSync(bin), Buffer.from([0])]));
    const l = cli(['live', '--from', rec, '--db', db], { env, cwd: work });
    expect(l.status).toBe(1);
    expect(l.stderr).toMatch(/^allocreplay: .*true-copy is not the binary that was recorded/);
    expect(l.stderr.trim().split('\n').filter((x) => !x.startsWith('  ')).length).toBe(1);
  });
});

describe('live runs', () => {
  let runs: { status: string; target: string; samples: number[]; wallNs: number }[] = [];
  beforeAll(() => {
    // The spin is the allocator's runtime environment (--env), part of its configuration like MALLOC_CONF.
    const r = cli(['live', '--from', trace, '-t', 'system', '-t', slow, '--env', 'ALLOCREPLAY_SLOW_SPIN=20000', '--repeat', '3', '--db', db, '--json'], { env });
    expect(r.status, r.stderr).toBe(0);
    runs = JSON.parse(r.stdout);
  }, 300_000);

  it('are measured per target, repeated, and stored as runs of mode live', () => {
    expect(runs.map((o) => o.status)).toEqual(['ok', 'ok']);
    for (const o of runs) {
      expect(o.samples).toHaveLength(3);
      expect(o.wallNs).toBeGreaterThan(0);
    }
    const listed = cli(['db', 'query', "SELECT COUNT(*) AS n FROM runs r JOIN configurations c ON c.id = r.configuration_id WHERE json_extract(c.options, '$.mode') = 'live'", '--db', db, '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)[0].n).toBeGreaterThanOrEqual(2);
  });

  it('are selected like replay runs: report compare finds the planted slowdown in the live program', () => {
    const r = cli(['report', 'compare', '--baseline', 'mode=live target=system', '--candidate', `mode=live target=${slow.split('/').pop()}`, '--json', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    const [row] = JSON.parse(r.stdout);
    expect(row.trace).toMatch(/^perl /);
    expect(row.deltaPct).toBeGreaterThan(0);
  });

  it('keep the program and its identity where a trace would be, keyed by the program hash', () => {
    const reader = openTrace(trace);
    const hash = programHash(reader.header.program!);
    reader.close();
    const q = cli(['db', 'query', `SELECT producer, program FROM traces WHERE checksum = 'program:${hash}'`, '--db', db, '--json']);
    expect(JSON.parse(q.stdout)).toEqual([{ producer: 'live', program: hash }]);
  });

  it('a program that fails under a target is a recorded result, not a crashed tool', () => {
    const r = cli(['live', '-t', 'system', '--repeat', '2', '--db', db, '--json', '--', 'sh', '-c', 'exit 3'], { env });
    expect(r.status).toBe(1);
    const [o] = JSON.parse(r.stdout);
    expect(o.status).toBe('failed');
    expect(o.error).toMatch(/exited with status 3 \(expected 0\)/);
    const ok = cli(['live', '-t', 'system', '--repeat', '1', '--expect-exit', '3', '--db', db, '--json', '--', 'sh', '-c', 'exit 3'], { env });
    expect(ok.status, ok.stderr).toBe(0);
  });

  it('a hanging program times out and leaves nothing running', () => {
    const r = cli(['live', '-t', 'system', '--repeat', '1', '--warmup', '0', '--timeout', '1', '--db', db, '--json', '--', 'sleep', '37.5'], { env });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)[0].status).toBe('timeout');
    // The launcher kills the program's process group at the limit, before it reports.
    expect(execSync("pgrep -f '^sleep 37[.]5$' || true", { encoding: 'utf8' }).trim()).toBe('');
  });
});

describe('replay modes by trace', () => {
  it('a recorded trace replays in the modes that predict its program unless told otherwise; a generated one back to back', () => {
    const options = (args: string[]): Record<string, unknown> => {
      const r = cli(['replay', ...args, '-t', 'system', '--repeat', '1', '--db', db, '--json'], { env });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout)[0].identity.options;
    };
    // The scale left open is the one calibrated for the trace on this machine, measured at the first paced replay and kept.
    const first = options([trace]);
    const kept = new Database(db, { readonly: true }).prepare('SELECT c.scale, c.program_ns AS programNs, c.work_ns AS workNs FROM pace_calibrations c JOIN traces t ON t.id = c.trace_id WHERE t.name = ?').all('perl') as { scale: number; programNs: number; workNs: number }[];
    expect(kept).toHaveLength(1);
    expect(kept[0]!.programNs).toBeGreaterThan(0);
    expect(kept[0]!.workNs).toBeGreaterThan(0);
    expect(first).toEqual({ mode: 'serial', touch: RECORDED_REPLAY.touch, warmup: 1, pace: RECORDED_REPLAY.pace, paceScale: kept[0]!.scale });
    expect(options([trace])).toEqual(first);
    expect(options([trace, '--pace', 'recorded'])).toEqual(first);
    expect(options([trace, '--pace', 'recorded', '--pace-scale', '7'])).toMatchObject({ pace: 'recorded', paceScale: 7 });
    expect(options([trace, '--pace', 'none', '--touch', 'none'])).toEqual({ mode: 'serial', touch: 'none', warmup: 1 });
    expect(options([trace, '--touch', 'first'])).toMatchObject({ touch: 'first', pace: RECORDED_REPLAY.pace });
    const gen = join(dir, 'gen.trace.msgpack');
    generate('tiny-hot', { ops: 10_000 }, gen);
    expect(options([gen])).toEqual({ mode: 'serial', touch: 'none', warmup: 1 });
  });
});


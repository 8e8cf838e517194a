import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../traces/index.js';
import { countIn, howItEnded, reached } from '../handshake.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const cache = join(dir, 'cache');
const env = { ALLOCREPLAY_CACHE: cache };
const rm = join(dir, 'rm256.trace.msgpack');
const hot = join(dir, 'hot.trace.msgpack');

beforeAll(() => {
  generate('random-mixed', { slots: 256, ops: 100_000 }, rm);
  generate('tiny-hot', { size: 16, ops: 100_000 }, hot);
});

function matrixJson(args: string[], cwd = dir): { configurations: number; skipped: number; measured: number; builds: { done: number; cached: number; failed: number }; runs: Record<string, unknown>[] } {
  const r = cli(['matrix', ...args, '--json'], { cwd, env });
  expect(r.stderr.split('\n').filter((l) => l.startsWith('allocreplay:'))).toEqual([]);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('matrix', () => {
  it('a second identical matrix does zero builds and zero replays, and says so', () => {
    const args = [rm, hot, '-t', 'system', '-t', 'tinyslab', '--set', 'TS_POOL=1,2', '--repeat', '2', '--db', join(dir, 'a.sqlite')];
    const first = matrixJson(args);
    expect(first.configurations).toBe(2 * 3);
    expect(first.measured).toBe(6);
    expect(first.builds.done).toBe(2);
    const second = matrixJson(args);
    expect(second).toMatchObject({ configurations: 6, measured: 0, skipped: 6, builds: { done: 0, cached: 2, failed: 0 } });
    expect(second.runs.map((r) => r.nsPerOp)).toEqual(first.runs.map((r) => r.nsPerOp));
    const text = cli(['matrix', ...args], { cwd: dir, env });
    expect(text.stdout).toMatch(/6 configuration runs: 0 measured, 6 already stored \(skipped\); builds: 0 built, 2 cached, 0 failed/);
  });

  it('TS_INLINE=0,1 with instructions: a deterministic difference, identical when repeated', () => {
    const args = [rm, '-t', 'tinyslab', '--set', 'TS_INLINE=0,1', '--metric', 'instructions', '--db', join(dir, 'b.sqlite')];
    const a = matrixJson(args).runs;
    const b = matrixJson([...args, '--force']).runs;
    const ins = (runs: Record<string, unknown>[], v: string): number => runs.find((r) => String(r.configuration).includes(`TS_INLINE=${v}`))!.instructions as number;
    expect(ins(a, '0')).toBeGreaterThan(ins(a, '1'));
    expect(ins(b, '0')).toBe(ins(a, '0'));
    expect(ins(b, '1')).toBe(ins(a, '1'));
  });

  it('a build that fails is a failed build with its log tail; the other configurations still run', () => {
    const repo = join(dir, 'brokenalloc');
    mkdirSync(repo);
    writeFileSync(join(repo, 'a.c'), '#include <stdlib.h>\n#if BROKEN\n#error deliberately broken build\n#endif\nvoid *x(void) { return 0; }\n');
    const git = (...a: string[]): string => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8' });
    git('init', '-q');
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'add', '.');
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'one');
    const r = cli(['matrix', rm, '-t', 'system', '--repo', repo, '--build', 'cc -shared -fPIC {cflags} -o liba.so a.c', '--artifact', 'liba.so', '--flag', 'BROKEN=define:0', '--set', 'BROKEN=0,1', '--repeat', '1', '--db', join(dir, 'c.sqlite')], { cwd: dir, env });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/build FAILED brokenalloc BROKEN=1: .*deliberately broken build/);
    expect(r.stdout).toMatch(/1 failed/);
    const runs = JSON.parse(cli(['db', 'query', "SELECT c.target, json_extract(c.flags, '$.BROKEN') AS broken, r.status FROM runs r JOIN configurations c ON c.id = r.configuration_id ORDER BY c.target, broken", '--json', '--db', join(dir, 'c.sqlite')], { env }).stdout);
    expect(runs).toEqual([
      { target: 'brokenalloc', broken: '0', status: 'ok' },
      { target: 'brokenalloc', broken: '1', status: 'failed' },
      { target: 'system', broken: null, status: 'ok' },
    ]);
    const builds = JSON.parse(cli(['db', 'query', 'SELECT status, log FROM builds ORDER BY status', '--json', '--db', join(dir, 'c.sqlite')], { env }).stdout);
    expect(builds.map((b: { status: string }) => b.status)).toEqual(['failed', 'ok']);
    expect(builds[0].log).toMatch(/deliberately broken build/);
  });

  it.each([
    ['an unknown key', 'targets:\n  t:\n    kind: system\n    colour: red\n', /allocreplay\.yaml: targets\.t\.colour: unknown key/],
    ['a wrong type', 'targets:\n  t:\n    kind: source\n    repo: .\n    build: make\n    artifact: { a: b }\n', /allocreplay\.yaml: targets\.t\.artifact: expected a string/],
    ['a flag value outside its declared values', 'targets:\n  t:\n    kind: source\n    repo: .\n    build: make\n    artifact: x.so\n    flags:\n      MODE: { values: ["1", "2"] }\nmatrices:\n  m:\n    targets: [t]\n    set:\n      MODE: ["1", "3"]\n', /allocreplay\.yaml: matrices\.m\.set\.MODE: value '3' is not one of/],
  ])('a bad config (%s) gives one line naming file and key, exit 2', (_, yaml, message) => {
    const cdir = join(dir, `cfg-${Math.random().toString(36).slice(2)}`);
    mkdirSync(cdir);
    writeFileSync(join(cdir, 'allocreplay.yaml'), yaml);
    const r = cli(['matrix', rm, '-t', 'system'], { cwd: cdir, env });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('Ctrl-C during a matrix, then the same command: finishes the rest without repeating finished runs', async () => {
    const db = join(dir, 'd.sqlite');
    const args = ['matrix', rm, hot, '-t', 'system', '-t', 'jemalloc', '-t', 'mimalloc', '-t', 'tcmalloc', '--metric', 'instructions', '--db', db];
    const child = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: 'ignore' });
    const closed = new Promise((res) => child.on('close', res));
    const stored = (): number => {
      const r = cli(['db', 'query', 'SELECT count(*) AS n FROM runs', '--json', '--db', db], { env });
      return r.status === 0 ? (JSON.parse(r.stdout)[0].n as number) : 0;
    };
    const runs = countIn(db, 'SELECT count(*) AS n FROM runs');
    await reached(child, '2 runs stored', () => runs() >= 2, { dirs: [dir] }).finally(runs.close);
    child.kill('SIGINT');
    await closed;
    // Stopped by the Ctrl-C: status 130 when it came during a measurement, the signal itself between two.
    expect(child.exitCode === 130 || child.signalCode === 'SIGINT', `the matrix ${howItEnded(child)}`).toBe(true);
    const before = stored();
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(8);
    const again = matrixJson(args.slice(1));
    expect(again.configurations).toBe(8);
    expect(again.skipped).toBe(before);
    expect(again.measured).toBe(8 - before);
    expect(stored()).toBe(8);
  });
});

describe('target build', () => {
  it('builds a source target, then finds it cached; a failing build shows its log tail and exits 1', () => {
    const first = cli(['target', 'build', 'tinyslab', '--set', 'TS_POOL=0', '--json', '--db', join(dir, 'tb.sqlite')], { env });
    expect(first.status, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(a.status).toBe('ok');
    const again = JSON.parse(cli(['target', 'build', 'tinyslab', '--set', 'TS_POOL=0', '--json', '--db', join(dir, 'tb.sqlite')], { env }).stdout);
    expect(again).toMatchObject({ status: 'ok', cached: true, artifactPath: a.artifactPath });
    const bad = cli(['target', 'build', 'tinyslab', '--set', 'TS_POOL=7', '--db', join(dir, 'tb.sqlite')], { env });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/TS_POOL=7 is not one of tinyslab's values for it \(0, 1, 2\)/);
  });
});

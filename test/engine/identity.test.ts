import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSelectorRevisions } from '../../engine/index.js';
import { measured, openStore } from '../../reports/index.js';
import { compileNative, generate } from '../../traces/index.js';
import { countIn, reached } from '../handshake.js';
import { cli, ROOT, tempDir } from '../helpers.js';

// One configuration, one identity: every case here was once a way for a
// result to be stored under a name that was never built, or for two
// configurations to share a label.
const dir = tempDir();
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const rm = join(dir, 'rm.trace.msgpack');
const rm2 = join(dir, 'rm2.trace.msgpack');
const big = join(dir, 'big.trace.msgpack');
const hot4000 = join(dir, 'hot4000.trace.msgpack');

beforeAll(() => {
  generate('random-mixed', { ops: 20_000, slots: 256, seed: 1 }, rm);
  generate('random-mixed', { ops: 20_000, slots: 512, seed: 2 }, rm2);
  generate('random-mixed', { ops: 400_000, slots: 4096, seed: 3 }, big);
  generate('tiny-hot', { ops: 2_000, size: 4000 }, hot4000);
});

const run = (args: string[], cwd = dir) => cli(args, { cwd, env });
const json = <T>(args: string[]): T => {
  const r = run([...args, '--json']);
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};
type MatrixJson = { configurations: number; measured: number; skipped: number; builds: { done: number; cached: number; failed: number }; runs: { configuration: string; identity: { env: Record<string, string>; flags: Record<string, string>; dirty: string | null }; status: string; error: string | null; samples: number; peakRssKiB: number | null }[] };
const query = <T>(db: string, sql: string): T[] => {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all() as T[];
  } finally {
    d.close();
  }
};

function gitRepo(name: string, files: Record<string, string>): { repo: string; git: (...a: string[]) => string; commit: (msg: string, more?: Record<string, string>) => void } {
  const repo = join(dir, name);
  mkdirSync(repo, { recursive: true });
  const git = (...a: string[]): string => execFileSync('git', ['-C', repo, '-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { encoding: 'utf8' }).trim();
  const commit = (msg: string, more: Record<string, string> = {}): void => {
    for (const [f, text] of Object.entries(more)) writeFileSync(join(repo, f), text);
    git('add', '-A');
    git('commit', '-qm', msg);
  };
  git('init', '-q');
  commit('first', files);
  return { repo, git, commit };
}

describe('flags', () => {
  it('a default value and the same value given explicitly are one configuration: one build, one label, one selector match', () => {
    const db = join(dir, 'defaults.sqlite');
    const a = json<MatrixJson>(['matrix', rm, '-t', 'tinyslab', '--repeat', '2', '--db', db]);
    expect(a.measured).toBe(1);
    const b = json<MatrixJson>(['matrix', rm, '-t', 'tinyslab', '--set', 'TS_INLINE=1', '--set', 'TS_POOL=1', '--repeat', '2', '--db', db]);
    expect(b).toMatchObject({ configurations: 1, measured: 0, skipped: 1, builds: { done: 0, cached: 1 } });
    expect(b.runs[0]!.configuration).toBe(a.runs[0]!.configuration);
    expect(query(db, 'SELECT id FROM configurations')).toHaveLength(1);
    expect(query(db, 'SELECT id FROM builds')).toHaveLength(1);
    // Every declared flag is stored with its default filled in, so either spelling selects it.
    const store = openStore(db, { readonly: true });
    try {
      expect(measured(store, 'time', 'target=tinyslab TS_INLINE=1')).toHaveLength(1);
      expect(measured(store, 'time', 'TS_SOFT_CAP=32')).toHaveLength(1);
      expect(measured(store, 'time', 'TS_INLINE=0')).toHaveLength(0);
    } finally {
      store.close();
    }
  });

  it('an undeclared flag is exit 2 with a suggestion, wherever it comes from', () => {
    const typo = run(['matrix', rm, '-t', 'tinyslab', '--set', 'TS_INLNE=0', '--db', join(dir, 'typo.sqlite')]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/has no flag TS_INLNE \(did you mean TS_INLINE\?\)/);
    expect(typo.stderr.trim().split('\n')).toHaveLength(1);
    const packaged = run(['replay', rm, '-t', 'jemalloc', '--set', 'X=1', '--db', join(dir, 'typo.sqlite')]);
    expect(packaged.status).toBe(2);
    expect(packaged.stderr).toMatch(/jemalloc \(no build\) declares no flag X/);
    const cfg = join(dir, 'cfg-undeclared');
    mkdirSync(cfg);
    writeFileSync(join(cfg, 'allocreplay.yaml'), 'matrices:\n  m:\n    targets: [tinyslab]\n    set:\n      TS_POOOL: ["2"]\n');
    const yaml = run(['matrix', '--name', 'm'], cfg);
    expect(yaml.status).toBe(2);
    expect(yaml.stderr).toMatch(/matrices\.m\.set\.TS_POOOL: no target of this matrix declares flag TS_POOOL/);
    // A flag name that is not an identifier never reaches a build command.
    writeFileSync(join(cfg, 'allocreplay.yaml'), `matrices:\n  m:\n    targets: [tinyslab]\n    set:\n      "X'$(touch ${join(dir, 'pwned')})'": ["1"]\n`);
    const evil = run(['matrix', '--name', 'm'], cfg);
    expect(evil.status).toBe(2);
    expect(evil.stderr).toMatch(/is not a flag name/);
  });

  it('a cmake option declared on the command line reaches the build, and the artifact follows it', () => {
    const { repo } = gitRepo('cmakealloc', {
      'CMakeLists.txt': 'cmake_minimum_required(VERSION 3.10)\nproject(ca C)\noption(CA_FANCY "fancy" OFF)\nadd_library(ca SHARED ca.c)\nif(CA_FANCY)\n  set_target_properties(ca PROPERTIES OUTPUT_NAME ca-fancy)\nendif()\n',
      'ca.c': 'int ca_marker;\n',
    });
    const db = join(dir, 'cmake.sqlite');
    const r = json<MatrixJson>(['matrix', rm, '--repo', repo, '--build', 'cmake -S . -B build {cmake} >/dev/null && cmake --build build', '--artifact', 'build/libca-fancy.so', '--artifact', 'build/libca.so', '--flag', 'CA_FANCY=cmake:OFF', '--set', 'CA_FANCY=OFF,ON', '--repeat', '1', '--db', db]);
    expect(r.builds).toMatchObject({ done: 2, failed: 0 });
    expect(r.runs.map((x) => x.status)).toEqual(['ok', 'ok']);
    const builds = query<{ flags: string; artifact: string }>(db, 'SELECT flags, artifact FROM builds ORDER BY flags');
    expect(builds.map((b) => [JSON.parse(b.flags).CA_FANCY, b.artifact.split('/').at(-1)])).toEqual([
      ['OFF', 'libca.so'],
      ['ON', 'libca-fancy.so'],
    ]);
  });

  it('a configure-style flag reaches the build as --enable-NAME=VALUE', () => {
    const { repo, commit } = gitRepo('confalloc', {
      'configure': '#!/bin/sh\nname=plain\nfor a in "$@"; do case "$a" in --enable-big-pages=yes) name=big;; esac; done\nprintf "all:\\n\\tcc -shared -fPIC -o lib$name.so a.c\\n" > Makefile\n',
      'a.c': 'int a_marker;\n',
    });
    chmodSync(join(repo, 'configure'), 0o755);
    commit('executable configure');
    const db = join(dir, 'configure.sqlite');
    const r = json<MatrixJson>(['matrix', rm, '--repo', repo, '--build', './configure {configure} && make', '--artifact', 'libbig.so', '--artifact', 'libplain.so', '--flag', 'enable_big_pages=configure:no', '--set', 'enable_big_pages=no,yes', '--repeat', '1', '--db', db]);
    expect(r.builds).toMatchObject({ done: 2, failed: 0 });
    const builds = query<{ flags: string; artifact: string; log: string }>(db, 'SELECT flags, artifact, log FROM builds ORDER BY flags');
    expect(builds.map((b) => b.artifact.split('/').at(-1))).toEqual(['libplain.so', 'libbig.so']);
    expect(builds[1]!.log).toMatch(/\.\/configure --enable-big-pages=yes/);
  });

  it('a value with commas is one matrix value when its commas are escaped', () => {
    const r = json<MatrixJson>(['matrix', rm, '-t', 'jemalloc', '--env', 'MALLOC_CONF=tcache:false\\,narenas:1,narenas:2', '--repeat', '1', '--db', join(dir, 'comma.sqlite')]);
    expect(r.configurations).toBe(2);
    expect(r.runs.map((x) => x.identity.env.MALLOC_CONF).sort()).toEqual(['narenas:2', 'tcache:false,narenas:1']);
  });

  it('target build --force builds again what is cached', () => {
    const first = json<{ cached: boolean }>(['target', 'build', 'tinyslab', '--set', 'TS_STATS=0', '--db', join(dir, 'tb.sqlite')]);
    const again = json<{ cached: boolean }>(['target', 'build', 'tinyslab', '--set', 'TS_STATS=0', '--db', join(dir, 'tb.sqlite')]);
    const forced = json<{ cached: boolean }>(['target', 'build', 'tinyslab', '--set', 'TS_STATS=0', '--force', '--db', join(dir, 'tb.sqlite')]);
    expect([first.cached, again.cached, forced.cached]).toEqual([false, true, false]);
  });
});

describe('measurement options and revisions', () => {
  it('serial and threads runs of one trace are two configurations, told apart by their labels and selectors', () => {
    const db = join(dir, 'modes.sqlite');
    json<MatrixJson>(['matrix', rm, '-t', 'system', '--repeat', '1', '--db', db]);
    const t = json<MatrixJson>(['matrix', rm, '-t', 'system', '--mode', 'threads', '--repeat', '1', '--db', db]);
    expect(t.measured).toBe(1);
    expect(query(db, 'SELECT id FROM configurations')).toHaveLength(2);
    const store = openStore(db, { readonly: true });
    try {
      const all = measured(store, 'time', 'target=system');
      expect(all).toHaveLength(2);
      expect(new Set(all.map((m) => m.label)).size).toBe(2);
      expect(measured(store, 'time', 'mode=threads')).toHaveLength(1);
      expect(measured(store, 'time', 'mode=serial touch=none warmup=1')).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('rev= takes tags and HEAD~1, and --rev takes A..B ranges', () => {
    const { repo, git, commit } = gitRepo('revalloc', { 'a.c': 'int v = 1;\n' });
    git('tag', 'v1');
    commit('second', { 'a.c': 'int v = 2;\n' });
    commit('third', { 'a.c': 'int v = 3;\n' });
    const db = join(dir, 'revs.sqlite');
    const common = ['--repo', repo, '--build', 'cc -shared -fPIC -o liba.so a.c', '--artifact', 'liba.so', '--repeat', '1', '--metric', 'instructions', '--db', db];
    const range = json<MatrixJson>(['matrix', rm, ...common, '--rev', 'v1..HEAD']);
    expect(range.configurations).toBe(2);
    json<MatrixJson>(['matrix', rm, ...common, '--rev', 'v1']);
    const store = openStore(db, { readonly: true });
    try {
      const pick = (sel: string): string[] => measured(store, 'instructions', resolveSelectorRevisions(store, sel)).map((m) => m.revision!);
      expect(pick('rev=v1')).toEqual([git('rev-parse', 'v1')]);
      expect(pick('rev=HEAD~1')).toEqual([git('rev-parse', 'HEAD~1')]);
      expect(pick(`rev=${git('rev-parse', 'HEAD').slice(0, 8)}`)).toEqual([git('rev-parse', 'HEAD')]);
    } finally {
      store.close();
    }
    const check = run(['report', 'check', '--baseline', 'rev=v1', '--candidate', 'rev=HEAD', '--metric', 'instructions', '--db', db]);
    expect(check.stderr).not.toMatch(/match/);
    expect([0, 1]).toContain(check.status);
  });

  it('a dirty repository is refused, naming the files, and built as it is with --dirty', () => {
    const { repo } = gitRepo('dirtyalloc', { 'a.c': 'int v = 1;\n' });
    writeFileSync(join(repo, 'a.c'), 'int v = 2;\n');
    writeFileSync(join(repo, 'new.c'), 'int w;\n');
    const db = join(dir, 'dirty.sqlite');
    const common = [rm, '--repo', repo, '--build', 'cc -shared -fPIC -o liba.so a.c', '--artifact', 'liba.so', '--repeat', '1', '--db', db];
    const refused = run(['matrix', ...common]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/uncommitted changes \(a\.c, new\.c\).*--dirty/);
    const built = json<MatrixJson>(['matrix', ...common, '--dirty']);
    expect(built.runs[0]!.status).toBe('ok');
    expect(built.runs[0]!.identity.dirty).toMatch(/^[0-9a-f]{64}$/);
    expect(built.runs[0]!.configuration).toMatch(/\+dirty\./);
  });
});

describe('reuse', () => {
  it('stored means ok with the repetitions asked: missing ones are added, failures stand until --retry-failed', () => {
    const db = join(dir, 'reuse.sqlite');
    json<MatrixJson>(['matrix', rm, '-t', 'system', '--repeat', '2', '--db', db]);
    const more = json<MatrixJson>(['matrix', rm, '-t', 'system', '--repeat', '5', '--db', db]);
    expect(more.measured).toBe(1);
    expect(more.runs[0]!.samples).toBe(5);
    expect(query<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM samples')[0]!.n).toBe(5);
    const crash = compileNative({ name: 'fixture-crash_nth.so', sources: [join(ROOT, 'test/fixtures/allocators/crash_nth.c')], shared: true });
    const crashArgs = ['matrix', rm, '-t', crash, '--env', 'ALLOCREPLAY_CRASH_AT=50', '--repeat', '1', '--db', db];
    expect(json<MatrixJson>(crashArgs).runs[0]!.status).toBe('crashed');
    const stands = json<MatrixJson>(crashArgs);
    expect(stands).toMatchObject({ measured: 0, skipped: 1 });
    expect(stands.runs[0]!.error).toMatch(/--retry-failed/);
    const retried = json<MatrixJson>([...crashArgs, '--retry-failed']);
    expect(retried.measured).toBe(1);
    expect(query(db, "SELECT id FROM runs WHERE status = 'crashed'")).toHaveLength(2);
  });

  it('three concurrent matrices on one database leave exactly one run per configuration', async () => {
    const db = join(dir, 'concurrent.sqlite');
    const args = ['matrix', rm, rm2, '-t', 'system', '-t', 'jemalloc', '-t', 'mimalloc', '--repeat', '3', '--db', db];
    const codes = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<string>((res) => {
            const c = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
            let err = '';
            c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
            c.on('close', (code) => res(`${code} ${err.trim()}`));
          }),
      ),
    );
    expect(codes).toEqual(['0 ', '0 ', '0 ']);
    const runs = query<{ n: number; samples: number }>(db, 'SELECT COUNT(*) AS n, (SELECT COUNT(*) FROM samples s JOIN runs r2 ON r2.id = s.run_id WHERE r2.trace_id = r.trace_id AND r2.configuration_id = r.configuration_id) AS samples FROM runs r GROUP BY trace_id, configuration_id');
    expect(runs).toHaveLength(6);
    expect(runs.every((r) => r.n === 1 && r.samples === 3)).toBe(true);
    expect(query(db, 'SELECT * FROM claims')).toHaveLength(0);
  });

  it('a killed matrix resumes keeping every finished repetition', async () => {
    const db = join(dir, 'killed.sqlite');
    const args = ['matrix', big, '-t', 'system', '-t', 'jemalloc', '--repeat', '30', '--db', db];
    const child = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: 'ignore' });
    const closed = new Promise((r) => child.on('close', r));
    const samples = (): number => {
      try {
        return query<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM samples')[0]!.n;
      } catch {
        return 0;
      }
    };
    // Each stored sample changes the database's files: look again on every change.
    const stored = countIn(db, 'SELECT COUNT(*) AS n FROM samples');
    await reached(child, '6 samples in the database', () => stored() >= 6, { dirs: [dir] }).finally(stored.close);
    child.kill('SIGKILL');
    await closed;
    expect(child.signalCode, 'the matrix finished before it could be killed').toBe('SIGKILL');
    const kept = samples();
    expect(kept).toBeGreaterThanOrEqual(6);
    const resumed = json<MatrixJson>(args);
    expect(resumed.runs.map((r) => r.samples)).toEqual([30, 30]);
    // The finished repetitions were kept: only the missing ones were measured.
    expect(samples()).toBe(60);
    expect(query<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM runs')[0]!.n).toBeGreaterThanOrEqual(3);
  });
});

describe('what a run reports', () => {
  it('an allocator that returns NULL gives alloc-failed with the exact count', () => {
    const nul = compileNative({ name: 'fixture-null_size.so', sources: [join(ROOT, 'test/fixtures/allocators/null_size.c')], shared: true });
    const r = json<MatrixJson>(['matrix', hot4000, '-t', nul, '--repeat', '2', '--db', join(dir, 'null.sqlite')]);
    expect(r.runs[0]!.status).toBe('alloc-failed');
    expect(r.runs[0]!.error).toMatch(/^1000 allocations returned NULL/);
  });

  it('peak RSS is the allocator\'s growth over the driver\'s own baseline', () => {
    const db = join(dir, 'rss.sqlite');
    const r = json<MatrixJson>(['matrix', big, '-t', 'system', '--repeat', '1', '--db', db]);
    const s = query<{ peak_rss_kib: number; rss_base_kib: number }>(db, 'SELECT peak_rss_kib, rss_base_kib FROM samples')[0]!;
    expect(s.rss_base_kib).toBeGreaterThan(0);
    expect(r.runs[0]!.peakRssKiB).toBe(s.peak_rss_kib - s.rss_base_kib);
    expect(r.runs[0]!.peakRssKiB!).toBeLessThan(s.peak_rss_kib);
  });
});

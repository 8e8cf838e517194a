import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Configuration, configurationHash, machineKey, openStore, type SampleRecord, type Store } from '../../reports/index.js';
import { gitIn } from '../bisect/repo.js';
import { cli, tempDir } from '../helpers.js';

/** Repetitions around `centre`, spread ±`spread` (deterministic). */
const around = (centre: number, spread: number, n = 9): number[] => Array.from({ length: n }, (_, i) => centre + spread * Math.sin(i * 2.4));
const timed = (xs: number[]): SampleRecord[] => xs.map((x) => ({ wallNs: x * 1e6, nsPerOp: x }));

/** A source-built configuration of `repo` at `revision`, as engine/identity makes it. */
function slab(repo: string, revision: string, cap: string, mode: 'serial' | 'live' = 'serial'): Configuration {
  return { name: 'slab', target: { kind: 'source', repo, build: 'make', artifact: 'libslab.so' }, revision, dirty: null, flags: { TS_SOFT_CAP: cap }, env: {}, options: { mode, touch: 'none', warmup: 1 }, machine: machineKey() };
}

function plant(store: Store, session: number, traceId: number, c: Configuration, samples: SampleRecord[], metric: 'time' | 'instructions' = 'time'): void {
  const { id } = store.ensureConfiguration(c);
  store.recordRun({ sessionId: session, traceId, configurationId: id, metric, status: 'ok', samples });
}

const dir = tempDir();
const db = join(dir, 'sel.sqlite');
const repo = join(dir, 'slab');
let shas: string[] = [];
const run = (args: string[]) => cli([...args, '--db', db], { cwd: dir });
const json = <T>(args: string[]): T => {
  const r = run([...args, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

beforeAll(() => {
  // A real repository with two commits: HEAD~1 is the first.
  mkdirSync(repo);
  const git = gitIn(repo);
  git('init', '-q');
  for (const n of ['one', 'two']) {
    writeFileSync(join(repo, 'slab.c'), `/* ${n} */\n`);
    git('add', '.');
    git('commit', '-qm', n);
    shas.push(git('rev-parse', 'HEAD'));
  }
  const store = openStore(db);
  const session = store.beginSession(['test']);
  const program = { hash: 'a'.repeat(64), identity: { argv: ['prog'], cwd: '/', binary: '/bin/prog', sha256: 'b'.repeat(64), env: {} } };
  const rec = store.ensureTrace({ checksum: 'c'.repeat(64), name: 'rm', path: join(dir, 'rm.trace.msgpack'), events: 1000, producer: 'trace', program });
  const live = store.ensureTrace({ checksum: `program:${program.hash}`, name: 'prog', path: '/bin/prog', events: 1, producer: 'live', program });
  // Each commit at two soft caps, replayed and run live; the caps and commits are far apart.
  shas.forEach((sha, i) => {
    for (const [cap, ns] of [['8', 10], ['32', 20]] as const) {
      plant(store, session, rec, slab(repo, sha, cap), timed(around(ns + 2 * i, 0.2)));
      plant(store, session, live, slab(repo, sha, cap, 'live'), timed(around(ns * 10 + 20 * i, 1)));
    }
  });
  store.close();
  shas = [...shas];
});

describe('rev= takes any git ref in every report command', () => {
  const first = (cap: string): string => configurationHash(slab(repo, shas[0]!, cap));

  it('report compare and check resolve HEAD~1 and HEAD, and print one short header line', () => {
    const sides = ['--baseline', 'rev=HEAD~1 TS_SOFT_CAP=8 mode=serial', '--candidate', 'rev=HEAD TS_SOFT_CAP=8 mode=serial'];
    const rows = json<{ baselineHash: string; candidateHash: string; baselineFullLabel: string }[]>(['report', 'compare', ...sides]);
    expect(rows.map((r) => [r.baselineHash, r.candidateHash])).toEqual([[first('8'), configurationHash(slab(repo, shas[1]!, '8'))]]);
    // --json carries the full identity, the table only what differs (the revision).
    expect(rows[0]!.baselineFullLabel).toMatch(/TS_SOFT_CAP=8 mode=serial touch=none warmup=1/);
    const table = run(['report', 'compare', ...sides]);
    expect(table.status, table.stderr).toBe(0);
    const header = table.stdout.split('\n')[0]!;
    expect(header).toBe(`baseline slab@${shas[0]!.slice(0, 7)}  vs  candidate slab@${shas[1]!.slice(0, 7)}  (time, lower is better)`);
    const long = run(['report', 'compare', ...sides, '--long']).stdout.split('\n')[0]!;
    expect(long).toMatch(/TS_SOFT_CAP=8 mode=serial touch=none warmup=1/);
    // HEAD is 2 ns/op slower than HEAD~1: a regression, exit 1.
    const checked = run(['report', 'check', ...sides, '--json']);
    expect(checked.status, checked.stderr).toBe(1);
    const check = JSON.parse(checked.stdout) as { regression: boolean; rows: { baselineHash: string }[] };
    expect(check.regression).toBe(true);
    expect(check.rows.map((r) => r.baselineHash)).toEqual([first('8')]);
    const md = run(['report', 'check', ...sides]);
    expect(md.stdout.split('\n').filter((l) => l.startsWith('**baseline'))).toEqual([`**${header}**`]);
  });

  it('report matrix, sweep, history, html and fidelity select HEAD~1 as the first commit', () => {
    const cells = json<{ configHash: string; label: string }[]>(['report', 'matrix', '--select', 'rev=HEAD~1 mode=serial']);
    expect(new Set(cells.map((c) => c.configHash))).toEqual(new Set([first('8'), first('32')]));
    // Named by the one flag that differs between them.
    expect(cells.map((c) => c.label).sort()).toEqual(['slab TS_SOFT_CAP=32', 'slab TS_SOFT_CAP=8']);
    const table = run(['report', 'matrix', '--select', 'rev=HEAD~1 mode=serial']).stdout;
    expect(table).toMatch(/^slab TS_SOFT_CAP=8 {2,}/m);

    const sweep = json<{ lines: { points: { configHash: string }[] }[] }>(['report', 'sweep', '--flag', 'TS_SOFT_CAP', '--select', 'rev=HEAD~1 mode=serial']);
    expect(sweep.lines.flatMap((l) => l.points.map((p) => p.configHash)).sort()).toEqual([first('8'), first('32')].sort());

    const lines = json<{ points: { revision: string }[] }[]>(['report', 'history', '--select', 'rev=HEAD~1']);
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines.flatMap((l) => l.points.map((p) => p.revision)))).toEqual(new Set([shas[0]]));

    const page = json<{ configurations: number; historyLines: number }>(['report', 'html', '-o', join(dir, 'sel.html'), '--select', 'rev=HEAD~1 mode=serial']);
    expect(page.configurations).toBe(2);

    const groups = json<{ targets: unknown[] }[]>(['report', 'fidelity', '--baseline', 'slab', '--select', 'rev=HEAD~1']);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.targets).toHaveLength(1);
  });
});

describe('"best" needs an interval that excludes no change', () => {
  const planted = join(dir, 'best.sqlite');
  beforeAll(() => {
    const store = openStore(planted);
    const session = store.beginSession(['test']);
    const close = store.ensureTrace({ checksum: 'd'.repeat(64), name: 'close', path: '/tmp/close', events: 1000, producer: 'generate' });
    const apart = store.ensureTrace({ checksum: 'e'.repeat(64), name: 'apart', path: '/tmp/apart', events: 1000, producer: 'generate' });
    // On `close` the caps overlap (1–5% apart, ±4 ns spread); on `apart` cap 32 is clearly fastest.
    for (const [cap, c, a] of [['8', 30, 60], ['32', 29, 20], ['256', 28.5, 40]] as const) {
      plant(store, session, close, slab(repo, shas[1]!, cap), timed(around(c, 4)));
      plant(store, session, apart, slab(repo, shas[1]!, cap), timed(around(a, 0.3)));
    }
    store.close();
  });

  it('report matrix stars no best where the intervals overlap, and says how close they are', () => {
    const cells = JSON.parse(cli(['report', 'matrix', '--json', '--db', planted]).stdout) as { trace: string; best: boolean; lowest: boolean; label: string }[];
    const on = (t: string) => cells.filter((c) => c.trace === t);
    expect(on('close').filter((c) => c.best)).toEqual([]);
    expect(on('close').filter((c) => c.lowest)).toHaveLength(1);
    expect(on('apart').filter((c) => c.best).map((c) => c.label)).toEqual(['slab TS_SOFT_CAP=32']);
    const table = cli(['report', 'matrix', '--db', planted]).stdout;
    expect(table).toMatch(/^close: no clear best: the lowest 3 show no clear difference \(±\d+\.\d%\)$/m);
    expect(table.split('\n').filter((l) => l.startsWith('slab') && l.includes('★'))).toHaveLength(1);
    for (const l of table.split('\n')) expect(l.length, l).toBeLessThanOrEqual(120);
  });

  it('report sweep (text and html) names the best cap only where it is clear', () => {
    const text = cli(['report', 'sweep', '--flag', 'TS_SOFT_CAP', '--db', planted]).stdout;
    expect(text).toMatch(/^apart: best TS_SOFT_CAP=32$/m);
    expect(text).toMatch(/^close: no clear difference \(±\d+\.\d%; lowest TS_SOFT_CAP=256\)$/m);
    const out = join(dir, 'sweep.html');
    expect(cli(['report', 'sweep', '--flag', 'TS_SOFT_CAP', '--db', planted, '--format', 'html', '-o', out]).status).toBe(0);
    const html = readFileSync(out, 'utf8');
    const rows = [...html.matchAll(/<tr><td>(close|apart)<\/td><td>(\d+)<\/td>.*?<\/tr>/g)].map((m) => [m[1], m[2], m[0].includes('★ best')]);
    expect(rows.filter((r) => r[2])).toEqual([['apart', '32', true]]);
    expect(html).toMatch(/lowest, no clear difference \(±\d+\.\d%\)/);
  });
});

describe('reports never silently empty', () => {
  const ins = join(dir, 'ins.sqlite');
  beforeAll(() => {
    const store = openStore(ins);
    const session = store.beginSession(['test']);
    const t = store.ensureTrace({ checksum: 'f'.repeat(64), name: 'rm', path: '/tmp/rm', events: 1000, producer: 'generate' });
    for (const [cap, n] of [['8', 1_200_000], ['32', 1_000_000]] as const) plant(store, session, t, slab(repo, shas[1]!, cap), [{ wallNs: 1e6, nsPerOp: 1, instructions: n }], 'instructions');
    store.close();
  });

  it('report html on an instructions-only database draws its charts', () => {
    const out = join(dir, 'ins.html');
    const r = cli(['report', 'html', '-o', out, '--db', ins, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ metrics: ['instructions'], configurations: 2, traces: 1 });
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/<figure class="chart" data-chart="bars" data-trace="rm"/);
    expect(html).toContain('1,000,000 Ir');
  });

  it('a report that selects nothing says what the database holds and which flag selects it', () => {
    const m = cli(['report', 'matrix', '--db', ins]);
    expect(m.status).toBe(1);
    expect(m.stderr).toMatch(/no time runs match: the database holds 2 instructions runs; select them with --metric instructions/);
    const s = cli(['report', 'matrix', '--db', ins, '--metric', 'instructions', '--select', 'target=jemalloc']);
    expect(s.stderr).toMatch(/no instructions runs match the selector 'target=jemalloc': .*targets slab; traces rm/);
    const h = cli(['report', 'html', '-o', join(dir, 'none.html'), '--db', ins, '--metric', 'time']);
    expect(h.stderr).toMatch(/--metric instructions/);
    expect(readFileSync(join(dir, 'none.html'), 'utf8')).toMatch(/<p class="empty">no time runs match: the database holds 2 instructions runs/);
  });
});

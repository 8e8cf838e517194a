/**
 * The report views never merge, sum or over-claim: one row per
 * configuration (by hash), failed runs say what happened, the RSS charts
 * draw every configuration, exact metrics carry no CI, wide spans get a log
 * axis, history keeps repositories apart and follows git, bisections show
 * their steps, and `db runs` prints the same median as every report.
 * Everything is measured for real through the CLI.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileNative, generate } from '../../traces/index.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const rm = join(dir, 'rm.trace.msgpack');
const hot = join(dir, 'hot.trace.msgpack');
/** Matrix views: statuses, labels, spans, series. */
const db = join(dir, 'views.sqlite');
/** Instruction counts. */
const dbIns = join(dir, 'ins.sqlite');
/** History and bisections over two repositories. */
const dbHist = join(dir, 'hist.sqlite');

const ok = (args: string[]): string => {
  const r = cli(args, { env });
  expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
};
/**
 * The CLI, awaited: the long set-up must not block the test worker's event
 * loop (vitest's own messages would time out on a loaded machine).
 */
async function measure(args: string[]): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, [join(ROOT, 'cli/bin/run.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    expect.fail(`${args.join(' ')} exited ${err.code}: ${err.stderr}`);
  }
}
const query = <T>(file: string, sql: string, ...args: unknown[]): T[] => {
  const d = new Database(file, { readonly: true });
  try {
    return d.prepare(sql).all(...args) as T[];
  } finally {
    d.close();
  }
};

/** A copy of tinyslab under `parent/slab` (target name `slab`) with commits; returns their hashes, oldest first. */
function slabRepo(parent: string, subjects: string[]): { repo: string; shas: string[] } {
  const repo = join(dir, parent, 'slab');
  mkdirSync(join(dir, parent));
  cpSync(join(ROOT, 'engine/allocators/tinyslab'), repo, { recursive: true });
  const git = (...a: string[]): string => execFileSync('git', ['-C', repo, '-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { encoding: 'utf8' }).trim();
  git('init', '-q');
  const shas: string[] = [];
  subjects.forEach((subject, i) => {
    writeFileSync(join(repo, 'NOTES'), `${i}\n`);
    if (subject.startsWith('WIP')) writeFileSync(join(repo, 'stats.c'), `${readFileSync(join(repo, 'stats.c'), 'utf8')}\n#error half-finished refactor\n`);
    if (subject.startsWith('Split')) {
      const cfg = join(repo, 'ts_config.h');
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('#define TS_INLINE 1', '#define TS_INLINE 0'));
    }
    git('add', '.');
    git('commit', '-qm', subject);
    shas.push(git('rev-parse', 'HEAD'));
  });
  return { repo, shas };
}

const source = (repo: string): string[] => ['--repo', repo, '--build', "make -s CFLAGS_EXTRA='{cflags}'", '--artifact', 'libtinyslab.so'];

let A: { repo: string; shas: string[] };
let B: { repo: string; shas: string[] };

beforeAll(async () => {
  mkdirSync(env.ALLOCREPLAY_CACHE);
  generate('random-mixed', { slots: 256, ops: 40_000 }, rm);
  generate('tiny-hot', { ops: 40_000 }, hot);
  const lib = (name: string, file: string): string => compileNative({ name, sources: [join(ROOT, 'test/fixtures/allocators', file)], shared: true });
  const slow = lib('fixture-slow.so', 'slow.c');
  const crash = lib('fixture-crash.so', 'crash_nth.c');
  const hang = lib('fixture-hang.so', 'hang.c');

  // Views: system in serial and in threads mode (two configurations), a very slow allocator (a span past ×20), a crash and a hang.
  await measure(['replay', rm, hot, '-t', 'system', '--repeat', '4', '--db', db]);
  await measure(['replay', rm, '-t', 'system', '--mode', 'threads', '--repeat', '4', '--db', db]);
  await measure(['replay', rm, '-t', slow, '--env', 'ALLOCREPLAY_SLOW_SPIN=20000', '--repeat', '4', '--db', db]);
  await measure(['replay', rm, '-t', crash, '--env', 'ALLOCREPLAY_CRASH_AT=100', '--repeat', '2', '--db', db]);
  await measure(['replay', rm, '-t', hang, '--env', 'ALLOCREPLAY_HANG_AT=100', '--timeout', '1', '--repeat', '2', '--db', db]);
  // Nine more configurations on one trace: more than one RSS chart holds.
  await measure(['matrix', rm, '-t', 'system', '--env', 'ALLOCREPLAY_N=1,2,3,4,5,6,7,8,9', '--repeat', '1', '--db', db]);

  await measure(['matrix', rm, '-t', 'tinyslab', '--set', 'TS_INLINE=0,1', '--metric', 'instructions', '--db', dbIns]);

  // History: repository A measured out of git order, one revision twice, and in threads mode; repository B, same target name.
  A = slabRepo('a', ['slab as bundled', 'Split the hot helpers out of line', 'Tidy the notes']);
  B = slabRepo('b', ['another slab', 'another change', 'WIP: does not build']);
  for (const rev of [A.shas[2]!, A.shas[0]!, A.shas[1]!]) await measure(['matrix', rm, ...source(A.repo), '--rev', rev, '--repeat', '4', '--db', dbHist]);
  await measure(['matrix', rm, ...source(A.repo), '--rev', A.shas[1]!, '--repeat', '4', '--force', '--db', dbHist]);
  await measure(['matrix', rm, ...source(A.repo), '--rev', `${A.shas[0]},${A.shas[2]}`, '--mode', 'threads', '--repeat', '4', '--db', dbHist]);
  await measure(['matrix', rm, ...source(B.repo), '--rev', B.shas.join(','), '--repeat', '4', '--db', dbHist]);
  await measure(['bisect', 'commits', ...source(A.repo), '--good', A.shas[0]!, '--bad', A.shas[2]!, '--trace', rm, '--metric', 'instructions', '--no-attribution', '--db', dbHist, '--json']);
}, 900_000);

interface Cell {
  trace: string;
  label: string;
  configHash: string;
  status: string;
  median: number;
  n: number;
}

describe('report matrix', () => {
  it('keeps serial and threads runs of system as two rows with labels that differ', () => {
    const cells = JSON.parse(ok(['report', 'matrix', '--json', '--db', db])) as Cell[];
    const hashes = query<{ hash: string }>(db, "SELECT hash FROM configurations WHERE target = 'system' AND env = '{}'").map((r) => r.hash);
    expect(hashes).toHaveLength(2);
    const mine = cells.filter((c) => c.trace === 'rm' && hashes.includes(c.configHash));
    expect(mine.map((c) => c.configHash).sort()).toEqual([...hashes].sort());
    expect(new Set(mine.map((c) => c.label)).size).toBe(2);
    // The terminal table has a row for each of them.
    const table = ok(['report', 'matrix', '--db', db]);
    for (const c of mine) expect(table.split('\n').some((l) => l.startsWith(`${c.label} `))).toBe(true);
  });

  it('says crashed: SIGSEGV at op N (the one crash-text form) and timeout in every format, never a blank cell', () => {
    const cells = JSON.parse(ok(['report', 'matrix', '--json', '--db', db])) as Cell[];
    const statuses = cells.filter((c) => c.trace === 'rm').map((c) => c.status);
    expect(statuses.some((s) => /^crashed: SIGSEGV at op \d+$/.test(s))).toBe(true);
    expect(statuses).toContain('timeout');
    for (const format of ['table', 'markdown', 'csv']) {
      const out = ok(['report', 'matrix', '--format', format, '--db', db]);
      expect(out, format).toMatch(/crashed: SIGSEGV at op \d+/);
      expect(out, format).toMatch(/timeout/);
    }
    // The crashing allocator never ran on `hot`: that cell says it was not measured, not empty.
    const table = ok(['report', 'matrix', '--db', db]).split('\n');
    const crashRow = table.find((l) => l.includes('fixture-crash.so'))!;
    expect(crashRow).toMatch(/crashed: SIGSEGV at op \d+\s+—|—\s+crashed: SIGSEGV at op \d+/);
  });

  it('csv and json are grouped by trace', () => {
    const csv = ok(['report', 'matrix', '--format', 'csv', '--db', db]).trim().split('\n').slice(1);
    const traces = csv.map((l) => l.split(',')[0]);
    expect(traces).toEqual([...traces].sort());
    expect(new Set(traces)).toEqual(new Set(['hot', 'rm']));
  });
});

describe('report compare and check', () => {
  it('a candidate that crashed says so, and check exits 1 for it', () => {
    const [serial] = query<{ hash: string }>(db, "SELECT hash FROM configurations WHERE target = 'system' AND env = '{}' AND options LIKE '%serial%'");
    const [crash] = query<{ target: string }>(db, "SELECT target FROM configurations WHERE target LIKE 'fixture-crash.so%'");
    const args = ['--baseline', `config=${serial!.hash.slice(0, 12)}`, '--candidate', `target=${crash!.target}`, '--db', db];
    const rows = JSON.parse(ok(['report', 'compare', ...args, '--json'])) as { trace: string; baselineStatus: string; candidateStatus: string }[];
    expect(rows.map((r) => [r.trace, r.baselineStatus, r.candidateStatus])).toEqual([['rm', 'ok', expect.stringMatching(/^crashed: SIGSEGV at op \d+$/)]]);
    expect(ok(['report', 'compare', ...args])).toMatch(/rm\s.*crashed: SIGSEGV at op \d+/);
    const check = cli(['report', 'check', ...args], { env });
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/^### ❌ candidate did not finish on 1 trace/);
    expect(check.stdout).toMatch(/- \*\*rm\*\*: candidate crashed: SIGSEGV at op \d+/);
  });
});

describe('db runs', () => {
  it('prints the median the reports print (mean of the two middle samples for an even n)', () => {
    const runs = JSON.parse(ok(['db', 'runs', '--json', '--limit', '100', '--db', db])) as { id: number; configHash: string; trace: string; status: string; value: number | null; samples: number }[];
    const cells = JSON.parse(ok(['report', 'matrix', '--json', '--db', db])) as Cell[];
    const four = runs.filter((r) => r.status === 'ok' && r.samples === 4);
    expect(four.length).toBeGreaterThanOrEqual(3);
    for (const r of four) {
      const s = query<{ v: number }>(db, 'SELECT ns_per_op v FROM samples WHERE run_id = ? ORDER BY ns_per_op', r.id).map((x) => x.v);
      expect(r.value).toBeCloseTo((s[1]! + s[2]!) / 2, 9);
      // One run per configuration here: the matrix's median is this run's.
      const cell = cells.find((c) => c.configHash === r.configHash && c.trace === r.trace)!;
      expect(cell.median).toBeCloseTo(r.value!, 9);
    }
  });
});

describe('report html', () => {
  const html = join(dir, 'views.html');
  let page = '';
  beforeAll(() => {
    ok(['report', 'html', '-o', html, '--db', db]);
    page = readFileSync(html, 'utf8');
  });

  it('groups the configurations by trace, failed ones tinted with what happened', () => {
    const matrix = page.slice(page.indexOf('<section id="matrix">'), page.indexOf('</section>', page.indexOf('<section id="matrix">')));
    expect(matrix.indexOf('<h3>hot</h3>')).toBeGreaterThan(-1);
    expect(matrix.indexOf('<h3>rm</h3>')).toBeGreaterThan(matrix.indexOf('<h3>hot</h3>'));
    const rm = matrix.slice(matrix.indexOf('<h3>rm</h3>'));
    expect(rm).toMatch(/<tr class="failed"><td>[^<]*fixture-crash\.so[^<]*<\/td><td>crashed: SIGSEGV at op \d+<\/td>/);
    expect(rm).toMatch(/<tr class="failed"><td>[^<]*fixture-hang\.so[^<]*<\/td><td>timeout<\/td>/);
  });

  it('uses a log axis where medians span more than ×20, and a linear one where they do not', () => {
    expect(page).toMatch(/<figure class="chart" data-chart="bars" data-trace="rm" data-scale="log">/);
    expect(page).toMatch(/<figure class="chart" data-chart="bars" data-trace="hot" data-scale="linear">/);
  });

  it('draws the RSS of every configuration that has a series, over as many charts as it takes, and names those without one', () => {
    const count = (cond: string): number =>
      query<{ n: number }>(db, `SELECT count(DISTINCT r.configuration_id) n FROM runs r JOIN traces t ON t.id = r.trace_id WHERE t.name = 'rm' AND r.status = 'ok' AND ${cond}`)[0]!.n;
    const want = count('json_array_length(r.series) >= 2');
    expect(want).toBeGreaterThan(8);
    const drawn = [...page.matchAll(/data-chart="series" data-trace="rm" data-scale="[a-z]+" data-configurations="(\d+)"/g)].map((m) => Number(m[1]));
    expect(drawn.length).toBeGreaterThanOrEqual(2);
    expect(drawn.reduce((a, b) => a + b, 0)).toBe(want);
    expect(page).not.toMatch(/class="more"/);
    // Threads mode samples no series: that configuration is named under the charts, not dropped.
    const without = count('(r.series IS NULL OR json_array_length(r.series) < 2)');
    expect(without).toBeGreaterThan(0);
    expect(page).toContain(`<p class="no-series" data-trace="rm" data-count="${without}">`);
  });
});

describe('exact metrics', () => {
  it('instruction counts are shown without a CI or p column in every format', () => {
    const args = ['--baseline', 'TS_INLINE=1', '--candidate', 'TS_INLINE=0', '--metric', 'instructions', '--db', dbIns];
    const table = ok(['report', 'compare', ...args]);
    expect(table).toMatch(/baseline instructions/);
    expect(table).not.toMatch(/CI|\bp\b/);
    const csv = ok(['report', 'compare', ...args, '--format', 'csv']);
    expect(csv.split('\n')[0]).not.toMatch(/ci_low|,p,/);
    const html = join(dir, 'ins.html');
    ok(['report', 'html', '-o', html, ...args]);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<h2>Comparison<\/h2>/);
    expect(page).not.toMatch(/95% CI/);
    // The same page for timings does carry them.
    const timed = join(dir, 'timed.html');
    ok(['report', 'html', '-o', timed, '--db', db]);
    expect(readFileSync(timed, 'utf8')).toMatch(/95% CI of median/);
  });
});

interface Line {
  name: string;
  target: string;
  repo: string | null;
  order: string;
  points: { revision: string; subject?: string; status: string; n: number; runs: number; step?: { deltaPct: number } }[];
}

describe('report history', () => {
  it('keeps each repository on its own axis, in git order with subjects, one point per revision', () => {
    const lines = JSON.parse(ok(['report', 'history', '--json', '--db', dbHist])) as Line[];
    const ofA = lines.filter((l) => l.repo === A.repo);
    const ofB = lines.filter((l) => l.repo === B.repo);
    expect(ofA).toHaveLength(2); // serial and threads
    expect(ofB).toHaveLength(1);
    for (const l of ofA) for (const p of l.points) expect(A.shas).toContain(p.revision);
    // B's last commit does not build: its point says so instead of vanishing, and no step reaches it.
    expect(ofB[0]!.points.map((p) => p.revision)).toEqual(B.shas);
    expect(ofB[0]!.points.map((p) => p.status)).toEqual(['ok', 'ok', 'failed']);
    expect(ofB[0]!.points[2]!.step).toBeUndefined();
    // Serial: measured c2, c0, c1, c1 — shown c0, c1, c2 with c1's two runs pooled.
    const serial = ofA.find((l) => l.points.length === 3)!;
    expect(serial.order).toBe('git');
    expect(serial.points.map((p) => p.revision)).toEqual(A.shas);
    expect(serial.points.map((p) => p.subject)).toEqual(['slab as bundled', 'Split the hot helpers out of line', 'Tidy the notes']);
    expect(serial.points[1]!.runs).toBe(2);
    expect(serial.points[1]!.n).toBe(8);
    expect(serial.points[0]!.step).toBeUndefined();
    expect(serial.points.slice(1).every((p) => p.step !== undefined)).toBe(true);
    const threads = ofA.find((l) => l !== serial)!;
    expect(threads.points.map((p) => p.revision)).toEqual([A.shas[0], A.shas[2]]);
    expect(threads.name).not.toBe(serial.name);
  });

  it('draws one chart per target and repository', () => {
    const out = join(dir, 'hist.html');
    ok(['report', 'history', '--format', 'html', '-o', out, '--db', dbHist]);
    const page = readFileSync(out, 'utf8');
    const axes = [...page.matchAll(/data-chart="history" data-axis="([^"]+)"/g)].map((m) => m[1]);
    expect(axes.sort()).toEqual([`slab @ ${A.repo}`, `slab @ ${B.repo}`].sort());
    const table = ok(['report', 'history', '--db', dbHist]);
    expect(table).toMatch(/Split the hot helpers out of line/);
    expect(table).toMatch(/WIP: does not build\s+failed/);
  });
});

describe('bisections in the HTML report', () => {
  it('lists each bisection with every stored step and its answer', () => {
    const out = join(dir, 'bisect.html');
    ok(['report', 'html', '-o', out, '--metric', 'instructions', '--db', dbHist]);
    const page = readFileSync(out, 'utf8');
    const steps = query<{ step: number; probe: string }>(dbHist, 'SELECT step, probe FROM bisection_steps ORDER BY step');
    expect(steps.length).toBeGreaterThanOrEqual(2);
    const section = page.slice(page.indexOf('<section id="bisections">'));
    expect(section).toMatch(/data-bisection="1"/);
    expect(section).toMatch(/first bad commit [0-9a-f]{10} Split the hot helpers out of line/);
    for (const s of steps) expect(section).toContain(`<tr><td>${s.step}</td><td>${s.probe.slice(0, 10)}`);
  });
});

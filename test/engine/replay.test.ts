import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { driverBuild, driverPath, PLAN_LAYOUT, planFor, resolveTarget, runReplay } from '../../engine/index.js';
import { compileNative, generate } from '../../traces/index.js';
import { countIn, reached } from '../handshake.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const rm = join(dir, 'rm.trace.msgpack');
const short = join(dir, 'short.trace.msgpack');
const larson = join(dir, 'larson.trace.msgpack');
const fixture = (name: string): string =>
  compileNative({ name: `fixture-${name}.so`, sources: [join(ROOT, 'test/fixtures/allocators', `${name}.c`)], shared: true });

beforeAll(() => {
  generate('random-mixed', { ops: 200_000, slots: 256 }, rm);
  generate('larson', { ops: 400_000, threads: 4 }, larson);
  generate('random-mixed', { ops: 2_000, slots: 64 }, short);
});

const opts = { mode: 'serial' as const, touch: 'none' as const, repeat: 3, warmup: 1, metric: 'time' as const, timeoutMs: 60_000 };

describe('replay driver', () => {
  it.each(['system', 'jemalloc', 'mimalloc', 'tcmalloc'])('replays through %s with clean checks', async (name) => {
    const r = await runReplay(planFor(rm), resolveTarget(name), opts);
    expect(r.status).toBe('ok');
    expect(r.samples).toHaveLength(3);
    expect(r.samples.every((s) => s.nsPerOp > 0 && s.peakRssKiB > 0)).toBe(true);
    expect(r.checks).toEqual({ nulls: 0, misaligned: 0, shortUsable: 0, leaked: 0, doubleFreed: 0 });
    expect(r.series!.length).toBeGreaterThan(50);
    expect(Math.max(...r.series!.map((p) => p.liveBytes))).toBeGreaterThan(0);
  });

  it('counts instructions exactly: two runs give the same count', async () => {
    const plan = planFor(rm);
    const a = await runReplay(plan, resolveTarget('system'), { ...opts, metric: 'instructions' });
    const b = await runReplay(plan, resolveTarget('system'), { ...opts, metric: 'instructions' });
    expect(a.status).toBe('ok');
    expect(a.samples[0]!.instructions).toBeGreaterThan(200_000 * 20);
    expect(b.samples[0]!.instructions).toBe(a.samples[0]!.instructions);
    const j = await runReplay(plan, resolveTarget('jemalloc'), { ...opts, metric: 'instructions' });
    expect(j.samples[0]!.instructions).not.toBe(a.samples[0]!.instructions);
  });

  it('threads mode replays larson on 4 threads, every object freed exactly once', async () => {
    for (const t of ['system', 'jemalloc']) {
      const r = await runReplay(planFor(larson), resolveTarget(t), { ...opts, mode: 'threads' });
      expect(r.status).toBe('ok');
      expect(r.checks).toMatchObject({ leaked: 0, doubleFreed: 0, nulls: 0 });
    }
  });

  it('a crashing allocator is a crashed run with its signal and op index', async () => {
    const lib = fixture('crash_nth');
    const r = await runReplay(planFor(rm), { name: 'crash', kind: 'preload', library: lib, env: { ALLOCREPLAY_CRASH_AT: '5000' } }, opts);
    expect(r.status).toBe('crashed');
    expect(r.signal).toBe('SIGSEGV');
    // The 5000th malloc happens at about op 10000 of an alloc/free mix.
    expect(r.opIndex).toBeGreaterThan(5000);
    expect(r.opIndex).toBeLessThan(20000);
  });

  it('keeps the last lines an aborting allocator wrote to stderr with its crash', async () => {
    const r = await runReplay(planFor(rm), { name: 'abort', kind: 'preload', library: fixture('abort_msg'), env: { ALLOCREPLAY_CRASH_AT: '5000' } }, opts);
    expect(r.status).toBe('crashed');
    expect(r.signal).toBe('SIGABRT');
    expect(r.stderrTail).toEqual(['abort_msg: arena 0 mapped at 0x7f0000000000', 'abort_msg: cannot initialise the size-class table (fixture)']);
    const ok = await runReplay(planFor(rm), resolveTarget('system'), opts);
    expect(ok.stderrTail).toBeUndefined();
  });

  it('a hanging allocator is killed and recorded as timeout', async () => {
    const lib = fixture('hang');
    const r = await runReplay(planFor(rm), { name: 'hang', kind: 'preload', library: lib, env: { ALLOCREPLAY_HANG_AT: '3000' } }, { ...opts, timeoutMs: 3000 });
    expect(r.status).toBe('timeout');
  });

  it('reports all 1000 repetitions it accepts, each with its own figures', async () => {
    const r = await runReplay(planFor(short), resolveTarget('system'), { ...opts, repeat: 1000, warmup: 0 });
    expect(r.status, r.error).toBe('ok');
    expect(r.samples).toHaveLength(1000);
    expect(r.samples.every((s) => s.wallNs > 0 && s.peakRssKiB > 0)).toBe(true);
  });

  it('a thread it cannot create is a clean failed run naming the thread, not a join of it', async () => {
    const lib = fixture('thread_limit');
    const r = await runReplay(planFor(larson), { name: 'nproc', kind: 'preload', library: lib, env: { ALLOCREPLAY_THREAD_LIMIT: '1' } }, { ...opts, mode: 'threads' });
    expect(r.status).toBe('failed');
    expect(r.error).toBe('cannot create thread 2 of 4: Resource temporarily unavailable');
  });

  it('a stack overflow in a worker thread is reported from its own signal stack, with the op index', async () => {
    const lib = fixture('overflow_thread');
    const r = await runReplay(planFor(larson), { name: 'overflow', kind: 'preload', library: lib, env: { ALLOCREPLAY_CRASH_AT: '20000' } }, { ...opts, mode: 'threads' });
    expect(r.status).toBe('crashed');
    expect(r.signal).toBe('SIGSEGV');
    // Only the driver's handler knows the op: a death without it has none.
    expect(r.opIndex).toBeGreaterThan(0);
    expect(r.opIndex).toBeLessThan(400_000);
  });

  it('writes its failure as valid JSON whatever the detail holds', () => {
    const odd = '--na"me\\with\nnew\tline\u0001';
    const r = spawnSync(driverPath(), ['--result-fd', '3', odd, 'x'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(r.status).toBe(3);
    const line = JSON.parse(String(r.output[3]).trim()) as { status: string; error: string };
    expect(line).toEqual({ status: 'failed', error: `unknown option: ${odd}` });
  });

  it('refuses to run without the sample spacing the plan was made for', () => {
    const r = spawnSync(driverPath(), [planFor(short).planPath, '--result-fd', '3', '--samples', '100'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(JSON.parse(String(r.output[3]).trim())).toMatchObject({ status: 'failed', error: expect.stringMatching(/^usage: .*--sample-every/) });
  });

  it("builds against its vendored callgrind header, not valgrind's installed one", () => {
    const b = driverBuild();
    const main = b.sources.find((f) => f.endsWith('replay.c'))!;
    const deps = execFileSync(process.env.CC ?? 'cc', [...(b.cflags ?? []), '-MM', main], { encoding: 'utf8' });
    expect(deps).toContain(join(ROOT, 'engine/native/vendor/valgrind/callgrind.h'));
    expect(deps).not.toMatch(/\/usr\/include\/valgrind/);
  });

  it('refuses a hostile plan cleanly', async () => {
    const { copyFileSync } = await import('node:fs');
    const plan = planFor(rm);
    const bad = join(dir, 'bad.plan');
    copyFileSync(plan.planPath, bad);
    const b = readFileSync(bad);
    const { header, rec } = PLAN_LAYOUT;
    b.writeUInt32LE(0xffffff, header.bytes + rec.bytes * 10 + rec.obj); // object id far out of range
    writeFileSync(bad, b);
    const r = await runReplay({ ...plan, planPath: bad }, resolveTarget('system'), opts);
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/object id out of range \(at 10\)/);
  });
});

describe('allocreplay replay', () => {
  it('runs every target even when one crashes or hangs, and reports each status', () => {
    const db = join(dir, 'cmd.sqlite');
    const r = cli(['replay', rm, '-t', 'system', '-t', fixture('crash_nth'), '-t', 'jemalloc', '--repeat', '2', '--timeout', '20', '--db', db, '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(out.map((o) => o.status)).toEqual(['ok', 'crashed', 'ok']);
    expect(out[1]).toMatchObject({ signal: 'SIGSEGV' });
    expect(out[0]!.nsPerOp).toBeGreaterThan(0);
    expect(out[0]!.peakRssKiB).toBeGreaterThan(0);
    const rows = new Database(db, { readonly: true }).prepare('SELECT status, count(*) n FROM runs GROUP BY status ORDER BY status').all();
    expect(rows).toEqual([{ status: 'crashed', n: 1 }, { status: 'ok', n: 2 }]);
  });

  it("stores a crashed allocator's stderr tail and shows it in the table footnote and in --json", () => {
    const db = join(dir, 'reasons.sqlite');
    const lib = fixture('abort_msg');
    const args = ['replay', rm, '-t', 'system', '-t', lib, '--repeat', '1', '--env', 'ALLOCREPLAY_CRASH_AT=5000', '--db', db];
    const table = cli(args);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/crashed: SIGABRT at op \d+ \[1\]/);
    expect(table.stdout).toMatch(/\[1\] .*fixture-abort_msg.* on rm, last lines on stderr:\n\s+abort_msg: arena 0 mapped at 0x7f0000000000\n\s+abort_msg: cannot initialise the size-class table \(fixture\)/);
    const json = JSON.parse(cli([...args, '--json']).stdout) as { status: string; stderrTail: string[] | null }[];
    expect(json.map((o) => o.status)).toEqual(['ok', 'crashed']);
    expect(json[0]!.stderrTail).toBeNull();
    expect(json[1]!.stderrTail).toEqual(['abort_msg: arena 0 mapped at 0x7f0000000000', 'abort_msg: cannot initialise the size-class table (fixture)']);
    const rows = new Database(db, { readonly: true }).prepare("SELECT stderr_tail FROM runs WHERE status = 'crashed'").all() as { stderr_tail: string }[];
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(JSON.parse(row.stderr_tail)).toContain('abort_msg: cannot initialise the size-class table (fixture)');
    // The matrix shows the stored crash with the same reason.
    const m = cli(['matrix', rm, '-t', 'system', '-t', lib, '--repeat', '1', '--env', 'ALLOCREPLAY_CRASH_AT=5000', '--db', db]);
    expect(m.stdout).toMatch(/crashed: SIGABRT at op \d+ \[1\]/); // the one crash form, in stored results too
    expect(m.stdout).toMatch(/\[1\] .*fixture-abort_msg.* on rm, last lines on stderr:\n\s+abort_msg: arena 0 mapped at 0x7f0000000000\n\s+abort_msg: cannot initialise the size-class table \(fixture\)/);
  });

  it('a target that fails to build is a failed run naming its log, and the command exits 1', () => {
    const repo = join(dir, 'broken-alloc');
    mkdirSync(repo);
    writeFileSync(join(repo, 'Makefile'), 'all:\n\t@echo "broken.c:1: error: this allocator does not compile"; exit 1\n');
    const git = (...a: string[]): string => execFileSync('git', a, { cwd: repo, encoding: 'utf8' });
    git('init', '-q');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'broken', '--allow-empty');
    git('add', 'Makefile');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'makefile');
    const db = join(dir, 'broken.sqlite');
    const r = cli(['replay', rm, '-t', 'system', '--repo', repo, '--build', 'make', '--artifact', 'libbroken.so', '--repeat', '1', '--db', db, '--json'], { env: { ALLOCREPLAY_CACHE: join(dir, 'broken-cache') } });
    expect(r.status).toBe(1);
    const log = /build of (\S+) failed: .*\(log: (\S+)\)/.exec(r.stderr);
    expect(log, r.stderr).not.toBeNull();
    expect(readFileSync(log![2]!, 'utf8')).toMatch(/this allocator does not compile/);
    const json = JSON.parse(r.stdout) as { status: string; error: string | null }[];
    expect(json.map((o) => o.status)).toEqual(['ok', 'failed']);
    expect(json[1]!.error).toContain(`(log: ${log![2]})`);
  });

  it('SIGKILL mid-run leaves an intact database and no partial run', async () => {
    const db = join(dir, 'kill.sqlite');
    const child = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), 'replay', rm, '-t', 'system', '-t', 'jemalloc', '-t', 'mimalloc', '-t', 'tcmalloc', '--metric', 'instructions', '--db', db], { stdio: 'ignore' });
    const closed = new Promise((res) => child.on('close', res));
    // Kill once the first run is stored and the next is under way.
    const runs = countIn(db, 'SELECT count(*) n FROM runs');
    await reached(child, 'the first run stored', () => runs() >= 1, { dirs: [dir] }).finally(runs.close);
    child.kill('SIGKILL');
    await closed;
    expect(child.signalCode, 'the replay finished before it could be killed').toBe('SIGKILL');
    const d = new Database(db);
    expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
    const partial = d.prepare(`SELECT r.id FROM runs r LEFT JOIN samples s ON s.run_id = r.id WHERE r.status = 'ok' GROUP BY r.id HAVING count(s.rep) <> 1`).all();
    expect(partial).toEqual([]);
    const stored = (d.prepare('SELECT count(*) n FROM runs').get() as { n: number }).n;
    expect(stored).toBeGreaterThanOrEqual(1);
    expect(stored).toBeLessThan(4);
    d.close();
  });
});

describe('driver output at the boundary', () => {
  it('a malformed result line is a reason, never a TypeError later', async () => {
    const { parseDriverOutput } = await import('../../engine/index.js');
    expect(parseDriverOutput(undefined)).toBe('the driver printed no result');
    expect(parseDriverOutput('{"status":"ok"')).toMatch(/not JSON/);
    expect(parseDriverOutput('{"status":"fine"}')).toMatch(/no known status/);
    expect(parseDriverOutput('{"status":"ok","reps":[]}')).toMatch(/checks are malformed/);
    expect(parseDriverOutput('{"status":"ok","reps":[{"wall_ns":1}],"checks":{}}')).toMatch(/repetitions are malformed/);
    expect(parseDriverOutput('{"status":"crashed","signal":11}')).toMatch(/lacks its signal or op/);
    const ok = '{"status":"ok","reps":[],"checks":{"nulls":0,"misaligned":0,"short_usable":0,"leaked":0,"double_freed":0},"series":[[1,2]]}';
    expect(parseDriverOutput(ok)).toMatchObject({ status: 'ok', series: [[1, 2]] });
  });
});

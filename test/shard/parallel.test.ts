import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../traces/index.js';
import { run } from '../bisect/repo.js';
import { countIn, reached } from '../handshake.js';
import { ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const traces = [join(dir, 'rm.trace.msgpack'), join(dir, 'hot.trace.msgpack')];
const MATRIX = [...traces, '-t', 'system', '-t', 'tinyslab', '--set', 'TS_POOL=1,2', '--set', 'TS_INLINE=0,1', '--metric', 'instructions'];
const BIN = join(ROOT, 'cli/bin/run.js');

beforeAll(() => {
  generate('random-mixed', { slots: 64, ops: 4000 }, traces[0]!);
  generate('tiny-hot', { size: 24, ops: 4000 }, traces[1]!);
});

/** What a database holds, one line per run: trace, configuration, metric, status, instruction count. */
function runsOf(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db
        .prepare(
          `SELECT t.checksum, c.hash, r.metric, r.status, s.instructions FROM runs r JOIN traces t ON t.id = r.trace_id
           JOIN configurations c ON c.id = r.configuration_id LEFT JOIN samples s ON s.run_id = r.id`,
        )
        .all() as Record<string, unknown>[]
    )
      .map((r) => Object.values(r).join(' '))
      .sort();
  } finally {
    db.close();
  }
}

function runCount(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, timeout: 10_000 });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'runs'").get() as { n: number }).n ? (db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n : 0;
  } finally {
    db.close();
  }
}

describe('a matrix in 4 shards under GNU parallel', () => {
  it('merged, it holds exactly the one-process matrix, with identical instruction counts; a killed shard rerun adds no duplicates', async () => {
    const shardDb = (k: number): string => join(dir, `results.shard-${k}.sqlite`);
    // Shard 1 is killed once it has stored its first run; the parallel run below resumes it.
    const killed = spawn(process.execPath, [BIN, 'matrix', ...MATRIX, '--shard', '1/4', '--db', shardDb(1)], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const exited = new Promise<void>((done) => killed.on('exit', () => done()));
    const stored = countIn(shardDb(1), 'SELECT COUNT(*) AS n FROM runs');
    await reached(killed, "shard 1's first run stored", () => stored() > 0, { dirs: [dir] }).finally(stored.close);
    killed.kill('SIGKILL');
    await exited;
    expect(killed.signalCode, 'shard 1 finished before it could be killed').toBe('SIGKILL');
    const before = runCount(shardDb(1));
    expect(before).toBeGreaterThan(0);

    // The README's recipe: four processes, one database each.
    const par = await new Promise<{ status: number; stderr: string }>((done) => {
      const p = spawn('parallel', ['--sshlogin', ':', process.execPath, BIN, 'matrix', ...MATRIX, '--shard', '{}/4', '--db', join(dir, 'results.shard-{}.sqlite'), ':::', '1', '2', '3', '4'], { env: { ...process.env, ...env } });
      let stderr = '';
      p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      p.stdout.resume();
      p.on('close', (status) => done({ status: status ?? -1, stderr }));
    });
    expect(par.status, par.stderr).toBe(0);
    for (const k of [1, 2, 3, 4]) expect(par.stderr).toContain(`shard ${k}/4 (from --shard ${k}/4)`);
    expect(runCount(shardDb(1))).toBeGreaterThan(before);

    const one = await run(['matrix', ...MATRIX, '--db', join(dir, 'one.sqlite')], env);
    expect(one.status, one.stderr).toBe(0);
    const merged = join(dir, 'merged.sqlite');
    const files = [1, 2, 3, 4].map(shardDb);
    const m1 = await run(['db', 'merge', '--db', merged, ...files], env);
    expect(m1.status, m1.stderr).toBe(0);
    expect(m1.stdout).toContain('4 files merged');
    const expected = runsOf(join(dir, 'one.sqlite'));
    expect(expected).toHaveLength(2 * 5);
    expect(expected.every((r) => / instructions ok \d+$/.test(r))).toBe(true);
    expect(runsOf(merged)).toEqual(expected);
    // Merging again adds nothing.
    const m2 = await run(['db', 'merge', '--db', merged, ...files, '--json'], env);
    expect(m2.status, m2.stderr).toBe(0);
    expect((JSON.parse(m2.stdout) as { counts: { runs: number } }[]).map((x) => x.counts.runs)).toEqual([0, 0, 0, 0]);
    expect(runsOf(merged)).toEqual(expected);
  });
});

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseShard, parseShard, partition, type ShardUnit, shardDbPath, shardFromEnv } from '../../engine/shard/index.js';
import { generate } from '../../traces/index.js';
import { run } from '../bisect/repo.js';
import { tempDir } from '../helpers.js';

describe('shard choice', () => {
  it('--shard K/N counts from 1; anything else is a usage error', () => {
    expect(parseShard('2/4')).toMatchObject({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '2', 'a/b', '1/0']) expect(() => parseShard(bad)).toThrow(/--shard/);
  });

  it('Slurm arrays count from SLURM_ARRAY_TASK_MIN (and its step); Kubernetes from 0 with a given count; GNU parallel only with a count', () => {
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 2, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 2, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 3, count: 4 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1', ALLOCREPLAY_SHARD_COUNT: '4' })).toMatchObject({ index: 2, count: 4 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '3' }, 4)).toMatchObject({ index: 4, count: 4 });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '1' })).toThrow(/does not export the completions count/);
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '4', ALLOCREPLAY_SHARD_COUNT: '4' })).toThrow(/shard 5 of 4/);
    expect(shardFromEnv({ PARALLEL_SEQ: '3' })).toBeUndefined();
    expect(shardFromEnv({ PARALLEL_SEQ: '3', ALLOCREPLAY_SHARD_COUNT: '4' })).toMatchObject({ index: 3, count: 4 });
    expect(chooseShard('1/2', undefined, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 1, count: 2, source: '--shard 1/2' });
    expect(() => chooseShard(undefined, 4, {})).toThrow(/--shard-count needs/);
    expect(shardDbPath('/x/results.sqlite', { index: 2, count: 4, source: '' })).toBe('/x/results.shard-2-of-4.sqlite');
  });

  it('the partition depends only on the units, puts each unit on one shard, and balances their cost', () => {
    const units: ShardUnit[] = Array.from({ length: 40 }, (_, i) => ({ key: `u${i}`, cost: ((i * 7919) % 97) + 1 }));
    const a = partition(units, 4);
    const b = partition([...units].reverse(), 4);
    expect([...b].sort()).toEqual([...a].sort());
    expect(a.size).toBe(40);
    const load = [1, 2, 3, 4].map((k) => units.filter((u) => a.get(u.key) === k).reduce((n, u) => n + u.cost, 0));
    expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(Math.max(...units.map((u) => u.cost)));
    // A key listed twice (a build and its runs) is one unit with their summed cost.
    expect(partition([{ key: 'x', cost: 5 }, { key: 'x', cost: 5 }, { key: 'y', cost: 9 }], 2)).toEqual(new Map([['x', 1], ['y', 2]]));
  });
});

describe('matrix shards from scheduler variables', () => {
  const dir = tempDir();
  const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
  const traces = [join(dir, 'rm.trace.msgpack'), join(dir, 'hot.trace.msgpack')];
  beforeAll(() => {
    generate('random-mixed', { slots: 64, ops: 3000 }, traces[0]!);
    generate('tiny-hot', { size: 32, ops: 3000 }, traces[1]!);
  });
  const matrix = async (name: string, extra: string[], vars: Record<string, string> = {}): Promise<{ measured: Set<string>; stderr: string }> => {
    const r = await run(['matrix', ...traces, '-t', 'system', '-t', 'tinyslab', '--set', 'TS_POOL=0,1,2', '--repeat', '1', '--json', '--db', join(dir, `${name}.sqlite`), ...extra], { ...env, ...vars });
    expect(r.status, r.stderr).toBe(0);
    const runs = (JSON.parse(r.stdout) as { runs: { trace: string; configHash: string }[] }).runs;
    return { measured: new Set(runs.map((x) => `${x.trace} ${x.configHash}`)), stderr: r.stderr };
  };

  it('Slurm and Kubernetes variables pick the same part as --shard, and say which they used', async () => {
    const shards = [];
    for (const k of [1, 2, 3]) shards.push(await matrix(`flag${k}`, ['--shard', `${k}/3`]));
    const all = await matrix('all', []);
    // The parts are disjoint and together are the whole matrix.
    expect(shards.reduce((n, s) => n + s.measured.size, 0)).toBe(all.measured.size);
    expect(new Set(shards.flatMap((s) => [...s.measured]))).toEqual(all.measured);
    expect(shards.every((s) => s.measured.size > 0)).toBe(true);
    const slurm = await matrix('slurm', [], { SLURM_ARRAY_TASK_ID: '11', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '3' });
    expect(slurm.measured).toEqual(shards[1]!.measured);
    expect(slurm.stderr).toMatch(/shard 2\/3 \(from SLURM_ARRAY_TASK_ID=11 SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_COUNT=3\)/);
    const k8s = await matrix('k8s', ['--shard-count', '3'], { JOB_COMPLETION_INDEX: '2' });
    expect(k8s.measured).toEqual(shards[2]!.measured);
    expect(k8s.stderr).toMatch(/shard 3\/3 \(from JOB_COMPLETION_INDEX=2 count 3\)/);
    const parallel = await matrix('parallel', [], { PARALLEL_SEQ: '1', ALLOCREPLAY_SHARD_COUNT: '3' });
    expect(parallel.measured).toEqual(shards[0]!.measured);
  });

  it('a Kubernetes index without a count is a usage error naming the fix', async () => {
    const r = await run(['matrix', ...traces, '-t', 'system', '--db', join(dir, 'bad.sqlite')], { ...env, JOB_COMPLETION_INDEX: '0' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/JOB_COMPLETION_INDEX=0 is set but the number of shards is not.*--shard-count N or set ALLOCREPLAY_SHARD_COUNT/);
  });
});

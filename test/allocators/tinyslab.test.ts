import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSource, parseStats, planFor, runReplay, tinyslabTarget } from '../../engine/index.js';
import { compileNative, generate } from '../../traces/index.js';
import { ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const lib = (flags: Record<string, string> = {}): string => {
  const b = buildSource(tinyslabTarget(), { flags });
  expect(b.status, b.logTail.join('\n')).toBe('ok');
  return b.artifactPath!;
};
const opts = { mode: 'serial' as const, touch: 'first' as const, repeat: 2, warmup: 1, metric: 'time' as const, timeoutMs: 120_000 };

beforeAll(() => {
  generate('random-mixed', { slots: 256, ops: 300_000 }, join(dir, 'rm256.trace.msgpack'));
  generate('random-mixed', { slots: 8192, ops: 300_000 }, join(dir, 'rm8192.trace.msgpack'));
  generate('larson', { threads: 4, ops: 400_000 }, join(dir, 'larson.trace.msgpack'));
});

describe('tinyslab', () => {
  it.each<Record<string, string>>([{}, { TS_TLS_CACHE: '0' }, { TS_POOL: '0' }, { TS_POOL: '2' }, { TS_INLINE: '0' }, { TS_STATS: '0' }])('passes the multithreaded C test preloaded, built with %o', (flags) => {
    const mt = compileNative({ name: 'mt', sources: [join(ROOT, 'test/allocators/mt.c')], ldflags: ['-lpthread'] });
    const r = spawnSync(mt, [], { env: { ...process.env, LD_PRELOAD: lib(flags) }, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/mt: 0 failures/);
    expect(r.status).toBe(0);
  });

  it.each<Record<string, string>>([{}, { TS_TLS_CACHE: '0' }, { TS_POOL: '0' }, { TS_INLINE: '0' }])('refuses sizes that would wrap and leaves foreign pointers alone, built with %o', (flags) => {
    const hostile = compileNative({ name: 'hostile', sources: [join(ROOT, 'test/allocators/hostile.c')] });
    const statsFile = join(dir, `hostile-${Object.values(flags).join('') || 'default'}.stats`);
    const r = spawnSync(hostile, [], { env: { ...process.env, LD_PRELOAD: lib(flags), ALLOCREPLAY_STATS_FILE: statsFile }, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hostile: 0 failures, 6 foreign frees\n');
    expect(r.status).toBe(0);
    // Every foreign pointer given to free() was recognised as one (and nothing of ours was).
    expect(parseStats(readFileSync(statsFile, 'utf8')).foreign_frees).toBe(6);
  });

  it('serves a real program as its malloc (perl filling and thinning a hash)', () => {
    const r = spawnSync('perl', ['-e', 'my %h; $h{$_} = "x" x ($_ % 300) for 1..200000; delete $h{$_} for grep { $_ % 3 } 1..200000; print scalar(keys %h)'], {
      env: { ...process.env, LD_PRELOAD: lib() },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('66666');
  });

  it('hits its soft cap at 8192 slots, not at 256, and counts the fallbacks', async () => {
    const target = { name: 'tinyslab', kind: 'source' as const, library: lib({ TS_POOL: '1' }), env: {} };
    const small = await runReplay(planFor(join(dir, 'rm256.trace.msgpack')), target, opts);
    const large = await runReplay(planFor(join(dir, 'rm8192.trace.msgpack')), target, opts);
    expect(small.status).toBe('ok');
    expect(small.allocatorStats?.cap_fallbacks).toBe(0);
    expect(large.allocatorStats?.cap_fallbacks).toBeGreaterThan(0);
    expect(large.checks).toMatchObject({ nulls: 0, misaligned: 0, shortUsable: 0, leaked: 0 });
  });

  it('counts the measured repetitions only, whatever the warm-up count', async () => {
    const target = { name: 'tinyslab', kind: 'source' as const, library: lib({ TS_POOL: '1' }), env: {} };
    const plan = planFor(join(dir, 'rm8192.trace.msgpack'));
    const one = await runReplay(plan, target, { ...opts, warmup: 1 });
    const three = await runReplay(plan, target, { ...opts, warmup: 3 });
    expect(one.allocatorStats?.cap_fallbacks).toBeGreaterThan(0);
    expect(three.allocatorStats?.cap_fallbacks).toBeGreaterThan(0);
    // Two measured repetitions of the trace's mallocs, none of the warm-ups' (fallbacks follow the
    // pool's state, which the warm-ups leave behind, so only the call counts are the same).
    expect(one.allocatorStats?.mallocs).toBe(three.allocatorStats?.mallocs);
    expect(one.allocatorStats!.mallocs! % opts.repeat).toBe(0);
  });

  it('survives the threads replay mode on larson, every object freed once', async () => {
    for (const flags of [{}, { TS_TLS_CACHE: '0' }, { TS_POOL: '2' }] as Record<string, string>[]) {
      const r = await runReplay(planFor(join(dir, 'larson.trace.msgpack')), { name: 'tinyslab', kind: 'source', library: lib(flags), env: {} }, { ...opts, mode: 'threads' });
      expect(r.status).toBe('ok');
      expect(r.checks).toMatchObject({ nulls: 0, misaligned: 0, leaked: 0, doubleFreed: 0 });
      // With one global heap (TS_TLS_CACHE=0) no free is remote.
      if (!('TS_TLS_CACHE' in flags)) expect(r.allocatorStats?.remote_frees).toBeGreaterThan(0);
      else expect(r.allocatorStats?.remote_frees).toBe(0);
    }
  });

  it('TS_INLINE=0 costs instructions, the same number every time', async () => {
    const plan = planFor(join(dir, 'rm256.trace.msgpack'));
    const count = async (inline: string): Promise<number> => {
      const r = await runReplay(plan, { name: 'tinyslab', kind: 'source', library: lib({ TS_INLINE: inline }), env: {} }, { ...opts, metric: 'instructions' });
      expect(r.status).toBe('ok');
      return r.samples[0]!.instructions!;
    };
    const on = await count('1');
    const off = await count('0');
    expect(off).toBeGreaterThan(on * 1.02);
    expect(await count('0')).toBe(off);
  });
});

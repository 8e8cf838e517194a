/**
 * tinyslab's debug build (TS_DEBUG=1): the invariants tinyslab.h states are
 * checked by ts_assert, which aborts with the broken one on stderr. Built
 * through allocreplay's source-target path like any flag setting, then run
 * over the trace fuzz corpus (test/fuzz/corpus.ts) through the real driver
 * and over the multithreaded C test: nothing may trip. A double free shows
 * the checks are live; the release build carries none of them.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSource, planFor, runReplay, tinyslabTarget } from '../../engine/index.js';
import { compileNative, Prng, validateTrace } from '../../traces/index.js';
import { CORPUS_CASES, CORPUS_SEED, corpusBases, writeCase } from '../fuzz/corpus.js';
import { ROOT, tempDir } from '../helpers.js';

const dir = tempDir('allocreplay-tsdebug-');
const lib = (flags: Record<string, string>): string => {
  const b = buildSource(tinyslabTarget(), { flags });
  expect(b.status, b.logTail.join('\n')).toBe('ok');
  return b.artifactPath!;
};
/** Traces of the corpus that the reader accepts (the others never reach a driver). */
const accepted: string[] = [];

beforeAll(() => {
  const bases = corpusBases(dir);
  const rng = new Prng(CORPUS_SEED);
  for (let k = 0; k < CORPUS_CASES; k++) {
    const p = join(dir, `case${k}.trace.msgpack`);
    writeCase(p, bases, k, rng);
    try {
      if (validateTrace(p).footer) accepted.push(p);
    } catch {
      // rejected with an input error: traces.test.ts checks that it is one
    }
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tinyslab debug build', () => {
  it('replays every accepted trace of the fuzz corpus without tripping an invariant, serial and threads', async () => {
    const target = { name: 'tinyslab', kind: 'source' as const, library: lib({ TS_DEBUG: '1' }), env: {} };
    const base = { touch: 'first', repeat: 1, warmup: 0, metric: 'time', timeoutMs: 60_000 } as const;
    const counts = { serial: 0, threads: 0, allocFailed: 0 };
    expect(accepted.length).toBeGreaterThan(CORPUS_CASES / 10);
    for (const [i, path] of accepted.entries()) {
      const plan = planFor(path);
      // Threads mode on every fourth trace that has few threads: the cross-thread frees reach the remote path.
      const modes = i % 4 === 0 && plan.threads <= 16 ? (['serial', 'threads'] as const) : (['serial'] as const);
      for (const mode of modes) {
        const r = await runReplay(plan, target, { ...base, mode });
        // NULL for a size no mapping can hold (2^53 bytes) is the allocator's answer, not a broken invariant.
        if (r.status === 'alloc-failed') counts.allocFailed++;
        else expect({ path, mode, status: r.status, signal: r.signal, stderr: r.stderrTail }).toMatchObject({ path, mode, status: 'ok' });
        expect(r.checks ?? {}, path).toMatchObject({ misaligned: 0, shortUsable: 0 });
        counts[mode]++;
      }
    }
    console.log(`tinyslab debug over the fuzz corpus: ${counts.serial} serial, ${counts.threads} threads replays, ${counts.allocFailed} alloc-failed (huge sizes), the rest ok`);
    expect(counts.serial).toBe(accepted.length);
    expect(counts.threads).toBeGreaterThan(0);
  });

  it('passes the multithreaded C test (remote frees, adopted heaps) with every check on', () => {
    const mt = compileNative({ name: 'mt', sources: [join(ROOT, 'test/allocators/mt.c')], ldflags: ['-lpthread'] });
    const settings: Record<string, string>[] = [{ TS_DEBUG: '1' }, { TS_DEBUG: '1', TS_TLS_CACHE: '0' }, { TS_DEBUG: '1', TS_POOL: '2' }];
    for (const flags of settings) {
      const r = spawnSync(mt, [], { env: { ...process.env, LD_PRELOAD: lib(flags) }, encoding: 'utf8', timeout: 120_000 });
      expect({ flags, stderr: r.stderr, stdout: r.stdout, status: r.status }).toEqual({ flags, stderr: '', stdout: expect.stringMatching(/mt: 0 failures/), status: 0 });
    }
  });

  it('stops a double free at the invariant it breaks; the release build has no check in it', () => {
    const prog = compileNative({ name: 'double-free', sources: [join(ROOT, 'test/allocators/double_free.c')], cflags: ['-fno-builtin'] });
    const r = spawnSync(prog, [], { env: { ...process.env, LD_PRELOAD: lib({ TS_DEBUG: '1' }) }, encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBe('SIGABRT');
    expect(r.stderr).toMatch(/^tinyslab: tinyslab\.h:\d+: invariant failed: s->used > 0/);
    const symbols = (so: string): string => spawnSync('nm', [so], { encoding: 'utf8' }).stdout;
    expect(symbols(lib({ TS_DEBUG: '1' }))).toMatch(/\bts_assert_fail\b/);
    expect(symbols(lib({}))).not.toMatch(/ts_assert_fail/);
  });
});

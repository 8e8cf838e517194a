import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planFor, resolveTarget, runReplay } from '../../engine/index.js';
import { exportAosp, generate, importAosp, importMtrace, Op, readEvents } from '../../traces/index.js';
import { cli, tempDir } from '../helpers.js';

const dir = tempDir();

const AOSP = `1000: malloc 0xb400007a8c0010 32
1000: calloc 0xb400007a8c0040 4 16
1001: memalign 0x7a8c1000 64 100
1001: realloc 0xb400007a8c0080 0xb400007a8c0010 64
1000: realloc 0x7a8c2000 0x0 10
1001: free 0x0
1000: free 0xdeadbeef
1000: free 0xb400007a8c0040
1001: free 0xb400007a8c0080
1000: free 0x7a8c1000
1000: free 0x7a8c2000
1001: thread_done 0x0
`;

describe('import aosp', () => {
  it('maps pointers to dense ids, threads to indices; counts unknown frees and free(NULL) without replaying them', async () => {
    const src = join(dir, 'a.txt');
    writeFileSync(src, AOSP);
    const out = join(dir, 'a.trace.msgpack');
    const r = await importAosp(src, out);
    expect(r.counts).toMatchObject({ nullFrees: 1, unknownFrees: 1 });
    expect(readEvents(out).map((e) => [e.op, e.thread, e.object, e.size, e.arg])).toEqual([
      [Op.malloc, 0, 1, 32, 0],
      [Op.calloc, 0, 2, 16, 4],
      [Op.memalign, 1, 3, 100, 64],
      [Op.realloc, 1, 4, 64, 1],
      [Op.realloc, 0, 5, 10, 0],
      [Op.free, 0, 2, 0, 0],
      [Op.free, 1, 4, 0, 0],
      [Op.free, 0, 3, 0, 0],
      [Op.free, 0, 5, 0, 0],
      [Op.thread_exit, 1, 0, 0, 0],
    ]);
  });

  it('keeps trailing timestamps as event times', async () => {
    const src = join(dir, 't.txt');
    writeFileSync(src, '7: malloc 0x10 8 1000 1100\n7: free 0x10 2000 2050\n');
    const out = join(dir, 't.trace.msgpack');
    await importAosp(src, out);
    expect(readEvents(out).map((e) => e.time)).toEqual([0, 1000]);
  });

  it('a malformed line is an error naming file:line and the text; --lenient skips and counts it', () => {
    const src = join(dir, 'bad.txt');
    writeFileSync(src, '1: malloc 0x10 8\n1: mallocc 0x20 8\n1: free 0x10\n');
    const r = cli(['import', 'aosp', src, '-o', join(dir, 'bad.trace.msgpack')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^allocreplay: .*bad\.txt:2: cannot parse '1: mallocc 0x20 8'/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const ok = cli(['import', 'aosp', src, '-o', join(dir, 'bad.trace.msgpack'), '--lenient', '--json']);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ events: 2, skipped: 1 });
  });

  it('reads a zip holding the dump directly', async () => {
    const src = join(dir, 'z.txt');
    writeFileSync(src, AOSP);
    execFileSync('zip', ['-q', '-j', join(dir, 'z.zip'), src]);
    await importAosp(join(dir, 'z.zip'), join(dir, 'z.trace.msgpack'));
    await importAosp(src, join(dir, 'plain.trace.msgpack'));
    expect(readEvents(join(dir, 'z.trace.msgpack'))).toEqual(readEvents(join(dir, 'plain.trace.msgpack')));
  });

  it('round-trips through trace export --format aosp', async () => {
    const src = join(dir, 'larson.trace.msgpack');
    generate('larson', { ops: 20_000, threads: 3 }, src);
    exportAosp(src, join(dir, 'larson.txt'));
    await importAosp(join(dir, 'larson.txt'), join(dir, 'back.trace.msgpack'));
    const strip = (p: string): number[][] => readEvents(p).map((e) => [e.op, e.thread, e.object, e.size, e.arg]);
    // free(NULL) is counted by the importer, not replayed: the only difference.
    const nullFree = (e: number[]): boolean => e[0] === Op.free && e[2] === 0;
    expect(strip(src).some(nullFree)).toBe(true);
    expect(strip(join(dir, 'back.trace.msgpack'))).toEqual(strip(src).filter((e) => !nullFree(e)));
  });
});

describe('import mtrace', () => {
  it('reads glibc mtrace logs, realloc pairs included', async () => {
    const src = join(dir, 'm.log');
    writeFileSync(src, ['= Start', '@ ./prog:[0x4005d4] + 0x1bd4460 0x10', '@ ./prog:[0x4005e2] + 0x1bd4480 0x20', '@ /lib/libc.so.6:(realloc+0x2b)[0x7f] < 0x1bd4460', '@ /lib/libc.so.6:(realloc+0x2b)[0x7f] > 0x1bd44c0 0x40', '@ ./prog:[0x4005f0] - 0x1bd4480', '@ ./prog:[0x4005f9] - 0x99', '@ ./prog:[0x400600] - 0x1bd44c0', '= End', ''].join('\n'));
    const out = join(dir, 'm.trace.msgpack');
    const r = await importMtrace(src, out);
    expect(r.counts.unknownFrees).toBe(1);
    expect(readEvents(out).map((e) => [e.op, e.object, e.size, e.arg])).toEqual([
      [Op.malloc, 1, 16, 0],
      [Op.malloc, 2, 32, 0],
      [Op.realloc, 3, 64, 1],
      [Op.free, 2, 0, 0],
      [Op.free, 3, 0, 0],
    ]);
  });

  it('an imported trace replays through system and jemalloc', async () => {
    const plan = planFor(join(dir, 'a.trace.msgpack'));
    for (const t of ['system', 'jemalloc']) {
      const r = await runReplay(plan, resolveTarget(t), { mode: 'threads', touch: 'all', repeat: 1, warmup: 0, metric: 'time', timeoutMs: 30_000 });
      expect(r.status, r.error).toBe('ok');
      expect(r.checks).toMatchObject({ misaligned: 0, nulls: 0, doubleFreed: 0 });
    }
  });
});

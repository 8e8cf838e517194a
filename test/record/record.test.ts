import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { planFor, resolveTarget, runReplay, buildSource, tinyslabTarget } from '../../engine/index.js';
import { compileNative, Op, openTrace, readEvents, traceInfo, type TraceEvent } from '../../traces/index.js';
import { run } from '../bisect/repo.js';
import { ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
/** The CLI, asynchronously: a long synchronous spawn stalls the test worker. */
const cli = (args: string[]): ReturnType<typeof run> => run(args, {});
let prog = '';

beforeAll(() => {
  prog = compileNative({ name: 'record-prog', sources: [join(ROOT, 'test/record/prog.c')], ldflags: ['-lpthread'] });
});

/** The events that touch objects made with sizes in [lo, hi). */
function marked(events: TraceEvent[], lo: number, hi: number): TraceEvent[] {
  const mine = new Set<number>();
  return events.filter((e) => {
    if (e.op === Op.free) return mine.has(e.object);
    if (e.op === Op.thread_exit) return false;
    const ours = (e.size >= lo && e.size < hi) || (e.op === Op.realloc && mine.has(e.arg));
    if (ours && e.object) mine.add(e.object);
    return ours;
  });
}

/** [mallocs, frees] of blocks sized [lo, hi), chunk by chunk, yielding between chunks (large traces). */
async function countMarked(path: string, lo: number, hi: number): Promise<[number, number]> {
  const mine = new Set<number>();
  let mallocs = 0;
  let frees = 0;
  for (const c of openTrace(path).chunks()) {
    for (let i = 0; i < c.length; i++) {
      if (c.op[i] === Op.malloc && c.size[i]! >= lo && c.size[i]! < hi && c.object[i]) {
        mine.add(c.object[i]!);
        mallocs++;
      } else if (c.op[i] === Op.free && mine.delete(c.object[i]!)) frees++;
    }
    await new Promise((r) => setImmediate(r));
  }
  return [mallocs, frees];
}

describe('record', () => {
  it('records a known sequence event for event: threads, realloc, aligned allocations, cross-thread frees', async () => {
    const out = join(dir, 'seq.trace.msgpack');
    const r = await cli(['record', '-o', out, '--', prog, 'sequence']);
    expect(r.status).toBe(0);
    const all = readEvents(out);
    // Timestamps (TSC stamps mapped to ns) run forward and span less than the run.
    expect(all.every((e, i) => i === 0 || e.time! >= all[i - 1]!.time!)).toBe(true);
    expect(all.at(-1)!.time!).toBeLessThan(10e9);
    const ev = marked(all, 1000, 2000).map((e) => [e.op, e.object, e.size, e.arg, e.thread]);
    // Object ids are dense over the whole trace; take them relative to the first of ours.
    const base = ev[0]![1]! - 1;
    const id = (k: number): number => base + k;
    const t1 = ev[0]![4]!;
    const t2 = ev.find((e) => e[0] === Op.free && e[1] === id(3))![4]!;
    expect(t2).not.toBe(t1);
    const relative = (xs: number[][]): number[][] => xs.map(([op, obj, size, arg, th]) => [op!, obj! - base, size!, op === Op.realloc ? arg! - base : arg!, th === t1 ? 1 : 2]);
    expect(relative(ev)).toEqual([
      [Op.malloc, 1, 1001, 0, 1],
      [Op.calloc, 2, 1002, 2, 1],
      [Op.memalign, 3, 1003, 64, 1],
      [Op.posix_memalign, 4, 1004, 128, 1],
      [Op.aligned_alloc, 5, 1280, 256, 1],
      [Op.realloc, 6, 1500, 1, 1],
      [Op.free, 2 - 0, 0, 0, 1],
      [Op.free, 3, 0, 0, 2],
      [Op.free, 4, 0, 0, 2],
      [Op.realloc, 7, 1900, 6, 2],
      [Op.free, 5, 0, 0, 2],
      [Op.free, 7, 0, 0, 2],
    ]);
  });

  it('8 threads × 200k operations with cross-thread frees and a fork: no event lost', async () => {
    const out = join(dir, 'stress.trace.msgpack');
    const r = await cli(['record', '--follow-forks', '-o', out, '--json', '--', prog, 'stress', '8', '200000']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const own = (who: string): number[] => lines.find((l) => l.startsWith(who))!.split(' ').slice(1).map(Number);
    const [pm, pf] = own('parent');
    const [cm, cf] = own('child');
    const summary = JSON.parse(lines.filter((l) => !/^(parent|child) /.test(l)).join('\n'));
    expect(summary.traces).toHaveLength(2);
    const count = (file: string): [number, number] => {
      const ev = marked(readEvents(file), 3000, 4000);
      return [ev.filter((e) => e.op === Op.malloc).length, ev.filter((e) => e.op === Op.free).length];
    };
    expect(count(out)).toEqual([pm, pf]);
    const child = readdirSync(dir).find((f) => /^stress\.trace\.msgpack\.\d+\.trace\.msgpack$|^stress\.\d+\.trace\.msgpack$/.test(f));
    expect(child).toBeDefined();
    expect(count(join(dir, child!))).toEqual([cm, cf]);
    expect(summary.traces[0].threads).toBeGreaterThanOrEqual(9);
  });

  it('threads made with C11 thrd_create (not through pthread_create): every call once, none late', async () => {
    const out = join(dir, 'c11.trace.msgpack');
    const r = await cli(['record', '-o', out, '--json', '--', prog, 'c11', '8', '100000']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const [pm, pf] = lines.find((l) => l.startsWith('parent '))!.split(' ').slice(1).map(Number);
    const summary = JSON.parse(lines.filter((l) => !l.startsWith('parent ')).join('\n'));
    // Sequence numbers taken without an atomic add by two threads at once would come twice: late records.
    expect(summary.traces[0].lostRecords).toBe(0);
    expect(await countMarked(out, 3000, 4000)).toEqual([pm, pf]);
    expect(summary.traces[0].threads).toBeGreaterThanOrEqual(9);
  });

  it('passes the exit status through', async () => {
    expect((await cli(['record', '-o', join(dir, 'x.trace.msgpack'), '--', 'sh', '-c', 'exit 7'])).status).toBe(7);
  });

  it('a recorded trace replays through system, jemalloc and tinyslab', async () => {
    const out = join(dir, 'perl.trace.msgpack');
    const r = await cli(['record', '-o', out, '--', 'perl', '-e', 'my %h; $h{$_} = "x" x ($_ % 100) for 1..20000; delete $h{$_} for 1..10000;']);
    expect(r.status).toBe(0);
    const plan = planFor(out);
    const ts = buildSource(tinyslabTarget());
    for (const target of [resolveTarget('system'), resolveTarget('jemalloc'), { name: 'tinyslab', kind: 'source' as const, library: ts.artifactPath!, env: {} }]) {
      const run = await runReplay(plan, target, { mode: 'serial', touch: 'first', repeat: 1, warmup: 0, metric: 'time', timeoutMs: 60_000 });
      expect(run.status, run.error).toBe('ok');
      expect(run.checks).toMatchObject({ nulls: 0, misaligned: 0 });
    }
  });

  it('a thread sleeping with a part-full buffer while 4 threads make 4.8M events: nothing lost, nothing stalled', async () => {
    // More events than the converter's largest reorder window: only the
    // stale-buffer watermark (another thread writes the sleeper's buffer) keeps them all.
    const out = join(dir, 'idle.trace.msgpack');
    const r = await cli(['record', '--json', '-o', out, '--', prog, 'idle', '600000']);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.traces[0].lostRecords).toBe(0);
    expect(summary.traces[0].unknownFrees).toBe(0);
    expect(await countMarked(out, 5000, 5100)).toEqual([100, 100]);
    expect(await countMarked(out, 4000, 5000)).toEqual([2_400_000, 2_400_000]);
  });

  it('threads still allocating when the program calls exit: a valid trace, no record torn or written twice', async () => {
    const out = join(dir, 'exit.trace.msgpack');
    const r = await cli(['record', '--json', '-o', out, '--', prog, 'exit', '4']);
    expect(r.status, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout).traces[0];
    // Calls made after the final write are lost (lostRecords), but what was written is, per thread, a whole
    // prefix of its calls: no free without its allocation, no record arriving twice (late), none torn.
    expect([t.unknownFrees, t.lateRecords]).toEqual([0, 0]);
    expect((await cli(['trace', 'validate', out])).status).toBe(0);
    expect(marked(readEvents(out), 5000, 6000).filter((e) => e.op === Op.malloc)).toHaveLength(1000);
  });

  it('execvpe: the image that execs writes its calls first', async () => {
    const out = join(dir, 'exec.trace.msgpack');
    const r = await cli(['record', '--json', '-o', out, '--', prog, 'exec']);
    expect(r.status, r.stderr).toBe(0);
    const { images } = JSON.parse(r.stdout) as { images: { pid: number; events: number; kept: boolean }[] };
    expect(images).toHaveLength(2);
    expect(images[0]!.kept).toBe(false);
    expect(images[0]!.events).toBeGreaterThanOrEqual(2000);
    expect(images[1]!.kept).toBe(true);
    expect(marked(readEvents(out), 7000, 7010).filter((e) => e.op === Op.malloc)).toHaveLength(10);
  });

  it('a thread id seen again after its thread_exit gets a new index, and threads-mode replay finishes ok', async () => {
    const out = join(dir, 'late.trace.msgpack');
    const r = await cli(['record', '-o', out, '--', prog, 'late']);
    expect(r.status, r.stderr).toBe(0);
    const events = readEvents(out);
    const first = events.find((e) => e.op === Op.malloc && e.size === 8001)!;
    const late = events.find((e) => e.op === Op.malloc && e.size === 8000)!;
    expect(events.some((e) => e.op === Op.thread_exit && e.thread === first.thread)).toBe(true);
    expect(late.thread).not.toBe(first.thread);
    const db = join(dir, 'late.sqlite');
    const rep = await cli(['replay', out, '-t', 'system', '--mode', 'threads', '--repeat', '1', '--warmup', '0', '--timeout', '30', '--db', db, '--json']);
    expect(rep.status, rep.stderr).toBe(0);
    expect(JSON.parse(rep.stdout)[0].status).toBe('ok');
  });

  it('1000 threads one after another (the first ending with a full buffer): every call kept, buffers unmapped', async () => {
    const out = join(dir, 'many.trace.msgpack');
    const r = await cli(['record', '--json', '-o', out, '--', prog, 'many', '1000']);
    expect(r.status, r.stderr).toBe(0);
    const vmKiB = Number(/^vm (\d+)$/m.exec(r.stdout)![1]);
    // About 110 MiB with the ring and the libraries; buffers kept after their threads would add 1000 × 256 KiB.
    expect(vmKiB).toBeLessThan(200 * 1024);
    expect(await countMarked(out, 9000, 9001)).toEqual([8065 + 999, 8065 + 999]);
    const summary = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    expect(summary.traces[0].threads).toBe(1001);
  });

  it('a program killed by SIGTERM: its calls are written, and it still dies of the signal', async () => {
    const out = join(dir, 'killed.trace.msgpack');
    const r = await cli(['record', '-o', out, '--', prog, 'killed']);
    expect(r.status).toBe(128 + 15);
    expect(marked(readEvents(out), 10000, 11000).filter((e) => e.op === Op.malloc)).toHaveLength(1000);
  });

  it('sizes at and above the 16-bit inline limit arrive exact', async () => {
    const out = join(dir, 'sizes.trace.msgpack');
    expect((await cli(['record', '-o', out, '--', prog, 'sizes'])).status).toBe(0);
    const big = readEvents(out).filter((e) => e.size >= 65534 && e.op !== Op.free);
    // realloc's arg is its old block: the first one.
    expect(big.map((e) => [e.op, e.size, e.arg])).toEqual([
      [Op.malloc, 65534, 0],
      [Op.malloc, 65535, 0],
      [Op.malloc, 65536, 0],
      [Op.malloc, 1 << 20, 0],
      [Op.calloc, 70000, 3],
      [Op.realloc, 100000, big[0]!.object],
    ]);
  });

  it('passes everything after -- untouched, even flags named like its own', async () => {
    const input = join(dir, 'in.txt');
    const sorted = join(dir, 'out.txt');
    writeFileSync(input, 'pear\napple\nfig\n');
    const r = await cli(['record', '-o', join(dir, 'sort.trace.msgpack'), '--', 'sort', '-o', sorted, input]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(sorted, 'utf8')).toBe('apple\nfig\npear\n');
  });

  it('free(NULL): what record counts is what trace info reports', async () => {
    const out = join(dir, 'nullfree.trace.msgpack');
    const r = await cli(['record', '--json', '-o', out, '--', 'perl', '-e', 'my @a = map { "x" x $_ } 1..2000;']);
    expect(r.status, r.stderr).toBe(0);
    const counted = JSON.parse(r.stdout).traces[0].nullFrees as number;
    expect(counted).toBeGreaterThan(0);
    expect(traceInfo(out).freesOfNull).toBe(counted);
  });
});

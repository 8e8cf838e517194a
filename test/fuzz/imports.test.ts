/**
 * Issue 11 fuzz suite, importers: 2,000 mutated Android dumps (a third of
 * them zips) and 500 mutated mtrace logs, seeded. Each case must end as a
 * trace that `validateTrace` accepts, or as one of our errors with nothing
 * left on disk; never an internal error, never a hang (per-case time limit),
 * and the cases also run through the CLI exit 0/1/2 with one line on stderr.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportAosp, generate, Op, readEvents } from '../../traces/index.js';
import { tempDir } from '../helpers.js';
import { countsLine, runFuzz } from './run.js';

const SEED = Number(process.env.ALLOCREPLAY_FUZZ_SEED ?? 11);
const dir = tempDir('allocreplay-fuzz-');

/** Valid dumps to mutate: generated workloads exported to aosp text, and a hand-written one with every op and timestamps. */
function aospTexts(): string[] {
  const texts = ['1000: malloc 0xb400007a8c0010 32 100 110\n1000: calloc 0xb400007a8c0040 4 16 200 210\n1001: memalign 0x7a8c1000 64 100 300 301\n1001: realloc 0xb400007a8c0080 0xb400007a8c0010 64 400 405\n1000: free 0xb400007a8c0040 500 501\n1001: free 0x0 600 600\n1001: thread_done 0x0 700 700\n'];
  for (const [g, params] of [['random-mixed', { slots: 32, ops: 300 }], ['larson', { threads: 3, ops: 300 }], ['realloc-grow', { ops: 200 }], ['phases', { ops: 300 }]] as const) {
    const t = join(dir, `${g}.trace.msgpack`);
    generate(g, { ...params, seed: 7 }, t);
    exportAosp(t, join(dir, `${g}.txt`));
    texts.push(execFileSync('cat', [join(dir, `${g}.txt`)], { encoding: 'utf8' }));
  }
  return texts;
}

/** The same workloads as glibc mtrace logs. */
function mtraceTexts(): string[] {
  return ['random-mixed', 'realloc-grow', 'phases'].map((g) => {
    const addr = (id: number): string => `0x${(0x55550000 + id * 48).toString(16)}`;
    const lines = ['= Start'];
    for (const e of readEvents(join(dir, `${g}.trace.msgpack`))) {
      if (e.op === Op.free) lines.push(`@ ./prog:[0x4005f0] - ${addr(e.object)}`);
      else if (e.op === Op.realloc) lines.push(`@ /lib/libc.so.6:(realloc+0x2b)[0x7f] < ${addr(e.arg)}`, `@ /lib/libc.so.6:(realloc+0x2b)[0x7f] > ${addr(e.object)} 0x${e.size.toString(16)}`);
      else if (e.op !== Op.thread_exit) lines.push(`@ ./prog:[0x4005d4] + ${addr(e.object)} 0x${e.size.toString(16)}`);
    }
    return `${lines.join('\n')}\n= End\n`;
  });
}

/** Zips to mutate: deflated, stored, a directory before several files, Zip64, empty. */
function zips(text: string): { path: string; names: string[] }[] {
  const src = join(dir, 'zsrc');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'dump.txt'), text);
  writeFileSync(join(src, 'sub', 'other.txt'), text.split('\n').slice(0, 20).join('\n'));
  const z = (name: string, args: string[]): string => {
    execFileSync('zip', ['-q', ...args], { cwd: src });
    return join(src, name);
  };
  execFileSync('sh', ['-c', `zip -q -fz ${join(src, 'z64.zip')} - < dump.txt`], { cwd: src });
  writeFileSync(join(src, 'empty.zip'), Buffer.from('504b0506000000000000000000000000000000000000', 'hex'));
  return [
    { path: z('d.zip', ['d.zip', 'dump.txt']), names: ['dump.txt'] },
    { path: z('s.zip', ['-0', 's.zip', 'dump.txt']), names: ['dump.txt'] },
    { path: z('multi.zip', ['-r', 'multi.zip', 'sub', 'dump.txt']), names: ['sub/other.txt', 'dump.txt'] },
    { path: join(src, 'z64.zip'), names: ['-'] },
    { path: join(src, 'empty.zip'), names: [] },
  ];
}

describe('fuzz: importers', () => {
  const texts = aospTexts();

  it('2,000 mutated Android dumps and zips: a valid trace or a clean error, never a hang', async () => {
    const o = await runFuzz({ kind: 'aosp', seed: SEED, count: 2000, dir, texts, zips: zips(texts[2]!), cliEvery: 250 }, { ALLOCREPLAY_CACHE: join(dir, 'cache') });
    console.log(countsLine('aosp dumps and zips', 2000, o));
    expect(o.hung).toBeUndefined();
    expect(o.bad, JSON.stringify(o.bad).slice(0, 2000)).toEqual([]);
    expect(o.counts.imported).toBeGreaterThan(100);
    expect(o.counts['refused (input)']).toBeGreaterThan(100);
  });

  it('500 mutated mtrace logs', async () => {
    const o = await runFuzz({ kind: 'mtrace', seed: SEED, count: 500, dir, texts: mtraceTexts(), zips: [], cliEvery: 250 });
    console.log(countsLine('mtrace logs', 500, o));
    expect(o.hung).toBeUndefined();
    expect(o.bad, JSON.stringify(o.bad).slice(0, 2000)).toEqual([]);
    expect(o.counts.imported).toBeGreaterThan(50);
  });
});

/**
 * Issue 23: `import aosp` parses and converts in native code
 * (traces/native/aosp_import.c, through the record converter's tracking and
 * writer). What it writes is checked against traces exported by
 * `exportAosp` and imported back (the events round-trip), against the same
 * dump respelled in every way a dump may spell a line, and for the errors
 * the importer gives. The dumps are large enough (> 8 chunks of 64 Ki
 * events) to cross chunks, and the reader's 4 MiB buffer.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AllocreplayError, aospImporterPath, encodeHeader, exportAosp, generate, importAosp, type ImportOptions, type ImportResult, Op, readEvents, TraceWriter, validateTrace } from '../../traces/index.js';
import { importHeader } from '../../traces/import/common.js';
import { tempDir } from '../helpers.js';

const dir = tempDir();
let n = 0;

/** A generated trace and its dump. */
function exported(name: string, generator: string, params: Record<string, number>): { trace: string; dump: string } {
  const trace = join(dir, `${name}.trace.msgpack`);
  generate(generator, params, trace);
  const dump = join(dir, `${name}.txt`);
  exportAosp(trace, dump);
  return { trace, dump };
}

/** The import's result and trace, or its error message; nothing may be left behind on an error. */
async function outcome(src: string, opts: ImportOptions = {}): Promise<{ result?: ImportResult; out: string; error?: string }> {
  const out = join(dir, `out${++n}.trace.msgpack`);
  try {
    return { result: await importAosp(src, out, opts), out };
  } catch (e) {
    expect(e).toBeInstanceOf(AllocreplayError);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.tmp`)).toBe(false);
    return { out, error: (e as Error).message };
  }
}

/** Events without their times. */
const calls = (p: string): number[][] => readEvents(p).map((e) => [e.op, e.thread, e.object, e.size, e.arg]);
/** Asserts two event lists are the same (a large one compared as text: toEqual on 10^6 arrays takes minutes); names the first difference. */
function same(got: number[][], want: number[][]): void {
  const a = got.map((e) => e.join(' '));
  const b = want.map((e) => e.join(' '));
  const first = a.findIndex((e, i) => e !== b[i]);
  expect(first < 0 ? 'same' : `event ${first}: ${a[first]} vs ${b[first]}`).toBe('same');
  expect(a.length).toBe(b.length);
}

/**
 * What a trace's dump imports back as: free(NULL) is counted by the
 * importer, not replayed, and threads are numbered in the order they first
 * appear (a generator may start with any of them).
 */
function replayed(events: number[][]): number[][] {
  const index = new Map<number, number>();
  return events
    .filter((e) => !(e[0] === Op.free && e[2] === 0))
    .map(([op, thread, ...rest]) => {
      if (!index.has(thread!)) index.set(thread!, index.size);
      return [op!, index.get(thread!)!, ...rest];
    });
}

/** Imports the dump of `trace` and asserts the events came back, and the footer's counts with them. */
async function roundTrip(trace: string, dump: string): Promise<ImportResult> {
  const { result, out, error } = await outcome(dump);
  expect(error).toBeUndefined();
  same(calls(out), replayed(calls(trace)));
  const footer = validateTrace(out).footer!;
  expect(result!.footer).toEqual(footer);
  const want = validateTrace(trace).footer!;
  expect({ ...footer, checksum: '', events: 0 }).toEqual({ ...want, checksum: '', events: 0 });
  return result!;
}

/**
 * Rewrites a dump so that its lines take every spelling a dump may use:
 * pointers tagged (16 hex digits) or zero-padded or in capitals, NULL as
 * `(nil)`, timestamps on some lines, CRLF, tabs and leading spaces on others.
 * Every pointer is the same pointer in all its lines.
 */
function respell(text: string): string {
  const ptr = (h: string): string => {
    const v = parseInt(h, 16);
    if (v === 0) return '(nil)';
    if (v % 5 === 0) return `0xb40000${h.padStart(10, '0')}`;
    if (v % 5 === 1) return `0X000${h.toUpperCase()}`;
    return `0x${h}`;
  };
  return text
    .split('\n')
    .map((line, i) => {
      if (line === '') return line;
      const l = line.replace(/0x([0-9a-f]+)/g, (_, h: string) => ptr(h));
      switch (i % 6) {
        case 0:
          return `${l} ${1_000_000 + i * 10} ${1_000_000 + i * 10 + 3}`;
        case 1:
          return `${l}\r`;
        case 2:
          return l.replaceAll(' ', '\t');
        case 3:
          return `  ${l}  `;
        default:
          return l;
      }
    })
    .join('\n');
}

describe('import aosp (native): events round-trip through exportAosp', () => {
  it.each([
    ['larson', { threads: 8, ops: 600_000, slots: 2000 }],
    ['realloc-grow', { ops: 200_000 }],
    ['producer-consumer', { ops: 100_000 }],
    ['phases', { ops: 150_000 }],
  ] as const)('%s', async (generator, params) => {
    const { trace, dump } = exported(`rt-${generator}`, generator, params);
    await roundTrip(trace, dump);
  });

  it('calloc, memalign, realloc, failed calls, free(NULL), thread_exit and a reused thread id', async () => {
    const trace = join(dir, 'crafted.trace.msgpack');
    const w = TraceWriter.open(trace, { producer: { kind: 'generate', name: 'crafted', params: {} } });
    let id = 0;
    for (let i = 0; i < 70_000; i++) {
      const th = i % 3;
      w.push(Op.calloc, th, ++id, 24, 4);
      w.push(Op.memalign, th, ++id, 100, 2 ** (i % 13));
      w.push(Op.malloc, th, 0, 2 ** 40, 0); // failed
      w.push(Op.realloc, th, ++id, 300, id - 2);
      w.push(Op.realloc, th, 0, 2 ** 41, id); // failed: the old one lives on
      w.push(Op.free, th, 0, 0, 0);
      w.push(Op.free, th, id, 0, 0);
      w.push(Op.free, th, id - 1, 0, 0);
    }
    w.push(Op.thread_exit, 1, 0, 0, 0);
    w.push(Op.malloc, 3, ++id, 8, 0);
    w.push(Op.free, 3, id, 0, 0);
    w.close();
    const dump = join(dir, 'crafted.txt');
    exportAosp(trace, dump);
    const r = await roundTrip(trace, dump);
    expect(r.counts).toMatchObject({ nullFrees: 70_000, failedAllocations: 140_000, unknownFrees: 0 });
  });

  it('every spelling of a line reads as the plain one; timestamps are kept', async () => {
    const { dump } = exported('mixed', 'larson', { threads: 8, ops: 600_000, slots: 2000 });
    const src = join(dir, 'mixed-respelled.txt');
    writeFileSync(src, respell(readFileSync(dump, 'latin1')));
    const plain = await outcome(dump);
    const mixed = await outcome(src);
    expect(mixed.result?.counts).toEqual(plain.result?.counts);
    same(calls(mixed.out), calls(plain.out));
    const times = readEvents(mixed.out).map((e) => e.time ?? -1);
    expect(times[0]).toBe(0);
    expect(Math.max(...times.slice(0, 1000))).toBeGreaterThan(0);
  });
});

describe('import aosp (native): lines', () => {
  it('times are relative to the first event and kept as given, also when they run backwards', async () => {
    const src = join(dir, 'back.txt');
    writeFileSync(src, '1: free 0x99 5\n1: malloc 0x10 8 10\n1: malloc 0x20 8 100\n1: free 0x10 50\n2: malloc 0x30 8\n');
    const { out } = await outcome(src);
    expect(readEvents(out).map((e) => e.time)).toEqual([0, 90, 40, 0]);
  });

  it('a pointer wider than 64 bits is one pointer, whatever its zeros and case', async () => {
    const src = join(dir, 'wide.txt');
    writeFileSync(src, '1: malloc 0x123456789abcdef01234 8\n1: malloc 0x23456789abcdef01234 8\n1: free 0x0123456789ABCDEF01234\n');
    const { out, result } = await outcome(src);
    expect(result?.counts.unknownFrees).toBe(0);
    expect(calls(out)).toEqual([
      [Op.malloc, 0, 1, 8, 0],
      [Op.malloc, 0, 2, 8, 0],
      [Op.free, 0, 1, 0, 0],
    ]);
  });

  it('threads whose ids share low bits keep their own indices; an id reused after thread_done is a new thread', async () => {
    const src = join(dir, 'tids.txt');
    writeFileSync(src, ['7: malloc 0x10 8', '263: malloc 0x20 8', '7: free 0x10', '519: malloc 0x40 8', '263: free 0x20', '7: thread_done 0x0', '7: malloc 0x30 8', '519: free 0x30', '263: free 0x40', ''].join('\n'));
    const { out } = await outcome(src);
    expect(readEvents(out).map((e) => e.thread)).toEqual([0, 1, 0, 2, 1, 0, 3, 2, 1]);
  });

  it('a line longer than the read buffer, and a last line without its LF', async () => {
    const { trace, dump } = exported('long', 'larson', { threads: 8, ops: 300_000, slots: 2000 });
    const lines = readFileSync(dump, 'latin1').split('\n');
    lines[1000] = `${lines[1000]}${' \t'.repeat(9 * 2 ** 19)}`;
    const src = join(dir, 'long-line.txt');
    writeFileSync(src, lines.join('\n').trimEnd());
    const { result, out } = await outcome(src);
    expect(result).toMatchObject({ lines: 300_000, counts: { unknownFrees: 0 } });
    same(calls(out), replayed(calls(trace)));
  });
});

describe('import aosp (native): errors', () => {
  it('a malformed line after 10 chunks: file:line and why, no partial output left', async () => {
    const { dump } = exported('late', 'larson', { threads: 8, ops: 650_000, slots: 2000 });
    writeFileSync(dump, `${readFileSync(dump, 'latin1')}7: memalign 0x10 48 16\n1: free 0x10\n`);
    const { error } = await outcome(dump);
    expect(error).toBe(`${dump}:650001: alignment 48 is not a power of two in '7: memalign 0x10 48 16'`);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it.each([
    ['1: mallocc 0x10 8', "cannot parse '1: mallocc 0x10 8'"],
    ['1: malloc 0x10 8x', "cannot parse '1: malloc 0x10 8x'"],
    ['1: malloc 0x 8', "cannot parse '1: malloc 0x 8'"],
    ['1 malloc 0x10 8', "cannot parse '1 malloc 0x10 8'"],
    ['1: malloc 0x10', "cannot parse '1: malloc 0x10'"],
    [`1: malloc 0x10 ${'9'.repeat(30)}`, `number ${'9'.repeat(24)}… is above the trace format's limit of 2^53-1 in '1: malloc 0x10 ${'9'.repeat(30)}'`],
    ['1: calloc 0x20 99999999999 99999999', "calloc of 99999999999 × 99999999 bytes is above the trace format's limit of 2^53-1 in '1: calloc 0x20 99999999999 99999999'"],
    [`1: free 0x10 ${2 ** 53}`, `number ${2 ** 53} is above the trace format's limit of 2^53-1 in '1: free 0x10 ${2 ** 53}'`],
    ['1: free 0x10 4503599627370497', "timestamp more than 2^52 ns after the first in '1: free 0x10 4503599627370497'"],
    ['\u00e9t\u00e9: free 0x1', "cannot parse '\u00e9t\u00e9: free 0x1'"],
  ])('%s', async (line, why) => {
    const src = join(dir, `bad${++n}.txt`);
    writeFileSync(src, `1: malloc 0x10 8 0\n${line}\n`, 'latin1');
    expect((await outcome(src)).error).toBe(`${src}:2: ${why}`);
  });

  it('--lenient: the damaged lines skipped and counted, the rest imported', async () => {
    const { dump } = exported('lenient', 'larson', { threads: 8, ops: 200_000, slots: 2000 });
    const lines = readFileSync(dump, 'latin1').split('\n');
    const damage = ['1: mallocc 0x10 8', '1: malloc 0x10 8x', '1: malloc 0x 8', `1: malloc 0x10 ${'9'.repeat(17)}`, '1 malloc 0x10 8', '1: calloc 0x20 99999999999 99999999'];
    for (let i = 0; i < lines.length - 1; i += 1000) lines[i] = damage[(i / 1000) % damage.length]!;
    const src = join(dir, 'damaged.txt');
    writeFileSync(src, lines.join('\n'));
    const { result, out } = await outcome(src, { lenient: true });
    expect(result?.skipped).toBe(200);
    expect(validateTrace(out).footer?.events).toBe(result?.footer.events);
  });

  it('compiles clean under -Wall -Wextra -Werror', () => {
    expect(() => aospImporterPath(['-Werror'])).not.toThrow();
  });
});

describe('import aosp (native): the writer', () => {
  it("the writer thread writes the bytes the caller's thread does", async () => {
    const { dump } = exported('threaded', 'larson', { threads: 8, ops: 700_000, slots: 2000 });
    const threaded = (await outcome(dump)).out;
    const plain = join(dir, 'unthreaded.trace.msgpack');
    const header = Buffer.from(encodeHeader(importHeader('aosp', dump))).toString('hex');
    execFileSync(aospImporterPath(['-DWRITER_FLAGS=0']), [header, plain], { input: readFileSync(dump) });
    expect(readFileSync(plain).equals(readFileSync(threaded))).toBe(true);
  });
});

describe('import aosp (native): a dump through a named pipe', () => {
  it('imports like the file it carries, plain or zipped (the pipe is read once)', async () => {
    const { dump } = exported('piped', 'larson', { threads: 8, ops: 400_000, slots: 2000 });
    execFileSync('zip', ['-q', '-j', join(dir, 'piped.zip'), dump]);
    const want = (await outcome(dump)).result!.footer;
    for (const carried of [dump, join(dir, 'piped.zip')]) {
      const fifo = join(dir, `pipe${++n}`);
      execFileSync('mkfifo', [fifo]);
      const writer = spawn('sh', ['-c', `cat '${carried}' > '${fifo}'`], { stdio: 'ignore' });
      const closed = new Promise((res) => writer.on('close', res));
      const r = await importAosp(fifo, join(dir, `piped${n}.trace.msgpack`));
      await closed;
      expect(r.footer).toEqual(want);
    }
  });
});

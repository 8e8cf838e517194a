/**
 * Issue 16, item 5: `import aosp` reads plain lines with a fast parser and
 * deflates chunks on the thread pool. Whatever it reads, it must write the
 * very bytes — and refuse with the very message — of the reference path
 * (every line through the cursor-based parser, deflate on the main thread).
 * The dumps are large enough (> 8 chunks of 64 Ki events) for chunks to be
 * in flight when the producer is told to wait, and when an error strikes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AllocreplayError, exportAosp, generate, importAosp, type ImportOptions, type ImportResult, readEvents } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

const dir = tempDir();
let n = 0;

/** A larson dump of `ops` lines, 8 threads (the benchmark's workload, smaller). */
function larsonDump(name: string, ops: number): string {
  const trace = join(dir, `${name}.trace.msgpack`);
  generate('larson', { threads: 8, ops, slots: 2000 }, trace);
  const dump = join(dir, `${name}.txt`);
  exportAosp(trace, dump);
  return dump;
}

/** The import's result and the trace's bytes, or its error message; nothing may be left behind on an error. */
async function outcome(src: string, out: string, opts: ImportOptions): Promise<{ result?: ImportResult; bytes?: Buffer; error?: string }> {
  try {
    const result = await importAosp(src, out, opts);
    return { result, bytes: readFileSync(out) };
  } catch (e) {
    expect(e).toBeInstanceOf(AllocreplayError);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.tmp`)).toBe(false);
    return { error: (e as Error).message };
  }
}

/** Imports `src` both ways and asserts they agree on everything; returns the fast one. */
async function bothWays(src: string, opts: ImportOptions = {}): Promise<{ result?: ImportResult; bytes?: Buffer; error?: string }> {
  const fast = await outcome(src, join(dir, `fast${++n}.trace.msgpack`), opts);
  const reference = await outcome(src, join(dir, `reference${n}.trace.msgpack`), { ...opts, reference: true });
  expect(fast.error).toEqual(reference.error);
  expect(fast.result).toEqual(reference.result);
  expect(fast.bytes?.equals(reference.bytes!) ?? reference.bytes === undefined, 'the two traces differ').toBe(true);
  return fast;
}

/**
 * Rewrites a dump so that its lines take both parsers: some pointers tagged
 * (16 hex digits: text keys, the cursor's), some zero-padded or in capitals,
 * NULL as `(nil)`, timestamps on some lines, CRLF, tabs and leading spaces
 * on others. Every spelling of a pointer is the same in all its lines.
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

describe('import aosp: the fast path and the reference path agree', () => {
  it('the same bytes for a 600,000-line dump (10 chunks)', async () => {
    const fast = await bothWays(larsonDump('plain', 600_000));
    expect(fast.result?.footer.events).toBe(600_000);
  });

  it('the same bytes when the lines mix every spelling both parsers read', async () => {
    const src = join(dir, 'mixed.txt');
    writeFileSync(src, respell(readFileSync(larsonDump('mixed-src', 600_000), 'latin1')));
    const fast = await bothWays(src);
    expect(fast.result?.counts).toMatchObject({ events: 600_000, unknownFrees: 0 });
    // The timestamps were kept: the first event at 0, later ones after it.
    const times = readEvents(join(dir, `fast${n}.trace.msgpack`)).map((e) => e.time ?? -1);
    expect(times[0]).toBe(0);
    expect(Math.max(...times.slice(0, 1000))).toBeGreaterThan(0);
  });

  it('a malformed line after 10 chunks: the same file:line error, no partial output left', async () => {
    const src = larsonDump('late', 650_000);
    writeFileSync(src, `${readFileSync(src, 'latin1')}7: memalign 0x10 48 16\n1: free 0x10\n`);
    const fast = await bothWays(src);
    expect(fast.error).toMatch(new RegExp(`${src}:650001: alignment 48 is not a power of two in '7: memalign 0x10 48 16'`));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--lenient: the same lines skipped, the same bytes', async () => {
    const lines = readFileSync(larsonDump('lenient', 200_000), 'latin1').split('\n');
    // Damage every 1000th line in one of the ways the fast parser hands over to the cursor.
    const damage = ['1: mallocc 0x10 8', '1: malloc 0x10 8x', '1: malloc 0x 8', `1: malloc 0x10 ${'9'.repeat(17)}`, '1 malloc 0x10 8', '1: calloc 0x20 99999999999 99999999'];
    for (let i = 0; i < lines.length - 1; i += 1000) lines[i] = damage[(i / 1000) % damage.length]!;
    const src = join(dir, 'damaged.txt');
    writeFileSync(src, lines.join('\n'));
    const fast = await bothWays(src, { lenient: true });
    expect(fast.result?.skipped).toBe(200);
  });
});

describe('import aosp: a plain dump is read in windows (8 MiB)', () => {
  it('a line longer than a window, and a last line without its LF past the first window', async () => {
    const lines = readFileSync(larsonDump('windows', 600_000), 'latin1').split('\n');
    // A valid line padded with 9 MiB of blanks, early on; and no LF after the last line.
    lines[1000] = `${lines[1000]}${' \t'.repeat(9 * 2 ** 19)}`;
    const src = join(dir, 'windows-long.txt');
    writeFileSync(src, lines.join('\n').trimEnd());
    const fast = await bothWays(src);
    expect(fast.result).toMatchObject({ lines: 600_000, counts: { events: 600_000, unknownFrees: 0 } });
  });
});

describe('import aosp: a dump through a named pipe', () => {
  it('imports like the file it carries, plain or zipped (the pipe is read once)', async () => {
    const src = larsonDump('piped', 400_000);
    execFileSync('zip', ['-q', '-j', join(dir, 'piped.zip'), src]);
    const want = (await importAosp(src, join(dir, 'piped-file.trace.msgpack'))).footer;
    for (const carried of [src, join(dir, 'piped.zip')]) {
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

describe('import aosp: thread indices', () => {
  it('threads whose ids share low bits keep their own indices; an id reused after thread_done is a new thread', async () => {
    const src = join(dir, 'tids.txt');
    writeFileSync(src, ['7: malloc 0x10 8', '263: malloc 0x20 8', '7: free 0x10', '519: malloc 0x40 8', '263: free 0x20', '7: thread_done 0x0', '7: malloc 0x30 8', '519: free 0x30', '263: free 0x40', ''].join('\n'));
    await bothWays(src);
    expect(readEvents(join(dir, `fast${n}.trace.msgpack`)).map((e) => e.thread)).toEqual([0, 1, 0, 2, 1, 0, 3, 2, 1]);
  });
});

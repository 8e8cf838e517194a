import { readFileSync, rmSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { onInterrupt } from '../cleanup.js';
import { inputError, usageError } from '../errors.js';
import type { TraceFooter } from '../format/index.js';
import { Op } from '../model.js';
import { type ConversionCounts, PointerTracker } from '../record/pointers.js';
import { Cursor, lines, MAX_VALUE, type PointerKey } from './cursor.js';
import { looksLikeZip, unzipDump, type ZipChoice } from './zip.js';

export interface ImportResult {
  footer: TraceFooter;
  counts: ConversionCounts;
  lines: number;
  /** Malformed lines skipped (--lenient). */
  skipped: number;
  /** The zip entry read, when the dump came zipped. */
  entry?: string;
}

export interface ImportOptions extends ZipChoice {
  /** Skip and count malformed lines instead of stopping at the first. */
  lenient?: boolean;
}

/** Lines parsed between two turns of the event loop (where a Ctrl-C is handled), at most. */
const LINES_PER_SLICE = 1 << 18;
/** Lines between two looks at the writer's room for more chunks (mask: every 4096). */
const ROOM_EVERY = 4095;

/** Timestamps are kept relative to the first; deltas stay encodable (|Δ| < 2^52) within this span (ns, ~52 days). */
const MAX_TIME_SPAN = 2 ** 52 - 1;

async function readDump(path: string, opts: ImportOptions): Promise<{ data: Buffer; entry?: string }> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(`${path}: cannot read (${code === 'EISDIR' ? 'a directory' : code})`, 'check the path');
  }
  if (looksLikeZip(buf)) return unzipDump(path, buf, opts);
  if (opts.entry !== undefined) throw usageError(`--entry ${opts.entry}: ${path} is not a zip archive`, 'leave out --entry for a plain dump');
  return { data: buf };
}

type LineHandler = (c: Cursor, t: PointerTracker) => boolean;

async function importLines(path: string, out: string, name: 'aosp' | 'mtrace', opts: ImportOptions, handle: LineHandler): Promise<ImportResult> {
  if (resolve(out) === resolve(path)) throw usageError(`-o ${out}: that is the dump being imported`, 'write the trace to another file (e.g. dump.trace.msgpack)');
  if (statSync(out, { throwIfNoEntry: false })?.isDirectory()) throw usageError(`-o ${out}: is a directory`, 'give the path of the trace file to write');
  const { data: buf, entry } = await readDump(path, opts);
  const where = entry === undefined ? path : `${path}:${entry}`;
  // Registered before the writer creates `out.tmp`, so no signal finds the file unaccounted for.
  const dropPartial = (): void => rmSync(`${out}.tmp`, { force: true });
  const done = onInterrupt(dropPartial);
  let tracker: PointerTracker;
  try {
    tracker = new PointerTracker(out, { producer: { kind: 'import', name, params: { file: basename(path) } }, hasTime: name === 'aosp' }, { background: true });
  } catch (e) {
    done();
    throw e;
  }
  const r = lines(buf);
  const c = new Cursor(buf);
  let skipped = 0;
  let kept = false;
  try {
    let slice = 0;
    while (r.next()) {
      if ((++slice & ROOM_EVERY) === 0) {
        // Bound the chunks being deflated in the background (and let finished ones reach the file).
        const room = tracker.room();
        if (room) await room;
        else if (slice >= LINES_PER_SLICE) {
          slice = 0;
          // Let a Ctrl-C be handled: the CLI then runs `dropPartial` and exits.
          await new Promise((res) => setImmediate(res));
        }
      }
      c.at(r.start, r.end);
      if (c.done()) continue;
      c.at(r.start, r.end);
      if (!handle(c, tracker)) {
        if (!opts.lenient) {
          const text = buf.toString('latin1', r.start, Math.min(r.end, r.start + 120));
          const why = c.problem ? `${c.problem} in` : 'cannot parse';
          throw inputError(`${where}:${r.line}: ${why} '${text}'`, 'fix or remove the line, or pass --lenient to skip and count malformed lines');
        }
        skipped++;
      }
    }
    if (tracker.counts.events === 0) {
      throw inputError(
        skipped ? `${where}: no line could be imported (${skipped} malformed lines skipped)` : `${where}: no allocation events in ${r.line} lines`,
        name === 'aosp' ? 'is it an Android memory_replay dump (`<tid>: <op> <ptr> [args]`)?' : 'is it a glibc mtrace() log?',
      );
    }
    const footer = await tracker.finish();
    kept = true;
    return { footer, counts: tracker.counts, lines: r.line, skipped, ...(entry === undefined ? {} : { entry }) };
  } catch (e) {
    tracker.abort();
    throw e;
  } finally {
    done();
    if (!kept) dropPartial();
  }
}

const AOSP_WORDS = ['malloc', 'free', 'calloc', 'realloc', 'memalign', 'thread_done'].map((w) => Buffer.from(w, 'latin1'));
const AOSP_OPS = [Op.malloc, Op.free, Op.calloc, Op.realloc, Op.memalign, Op.thread_exit];

const isPowerOfTwo = (v: number): boolean => v >= 1 && v <= 2 ** 52 && 2 ** Math.round(Math.log2(v)) === v;

/**
 * Android memory_replay text dumps: `<tid>: <op> <ptr> [args] [timestamps]`
 * (a `.zip` holding one is read directly: its first regular file, or
 * `opts.entry`). Every number is range-checked: a value beyond the trace
 * format's 2^53-1 is a malformed line, never a wrapped or infinite one.
 */
export function importAosp(path: string, out: string, opts: ImportOptions = {}): Promise<ImportResult> {
  let t0 = -1;
  return importLines(path, out, 'aosp', opts, (c, t) => {
    const tid = c.dec();
    if (tid < 0 || !c.expect(58)) return false;
    const op = AOSP_OPS[c.oneOf(AOSP_WORDS)];
    const ptr = c.ptr();
    if (op === undefined || ptr === undefined) return false;
    const old = op === Op.realloc ? c.ptr() : 0;
    if (old === undefined) return false;
    // Up to three numbers: the op's own arguments, then timestamps (ns) of which the first is kept.
    let n0 = 0;
    let n1 = 0;
    let n2 = 0;
    let count = 0;
    while (!c.done()) {
      const v = c.dec();
      if (v < 0) return false;
      if (count === 0) n0 = v;
      else if (count === 1) n1 = v;
      else if (count === 2) n2 = v;
      count++;
    }
    const need = op === Op.malloc || op === Op.realloc ? 1 : op === Op.calloc || op === Op.memalign ? 2 : 0;
    if (count < need) return false;
    if (op === Op.memalign && !isPowerOfTwo(n0)) return c.fail(`alignment ${n0} is not a power of two`);
    if (op === Op.calloc && n0 * n1 > MAX_VALUE && ptr !== 0) return c.fail(`calloc of ${n0} × ${n1} bytes is above the trace format's limit of 2^53-1`);
    const ns = count > need ? (need === 0 ? n0 : need === 1 ? n1 : n2) : 0;
    if (t0 < 0) t0 = ns;
    else if (ns - t0 > MAX_TIME_SPAN) return c.fail('timestamp more than 2^52 ns after the first');
    if (op === Op.free) t.free(tid, ptr, ptr === 0, ns);
    else if (op === Op.thread_exit) t.threadExit(tid, ns);
    else if (op === Op.realloc) t.realloc(tid, old, old === 0, ptr, ptr === 0, n0, ns);
    else if (op === Op.malloc) t.alloc(op, tid, ptr, ptr === 0, n0, 0, ns);
    else t.alloc(op, tid, ptr, ptr === 0, n1, n0, ns); // calloc nmemb size; memalign alignment size
    return true;
  });
}

/**
 * glibc mtrace() logs: `@ caller + 0xPTR 0xSIZE` (allocation), `@ caller -
 * 0xPTR` (free), and a realloc as `< 0xOLD` then `> 0xNEW 0xSIZE`; `=` lines
 * mark start and end. mtrace has no threads: everything is thread 0.
 */
export function importMtrace(path: string, out: string, opts: ImportOptions = {}): Promise<ImportResult> {
  let pendingOld: PointerKey | undefined;
  return importLines(path, out, 'mtrace', opts, (c, t) => {
    if (c.expect(61)) return true; // '= Start' / '= End'
    if (!c.expect(64)) return false; // '@'
    // The caller field runs to the next space: `./prog:[0x4005d4]` or `/lib/libc.so.6:(realloc+0x2b)[0x…]`.
    c.spaces();
    while (c.pos < c.end && c.buf[c.pos] !== 32) c.pos++;
    c.spaces();
    const kind = c.peek();
    c.pos++;
    const ptr = c.ptr();
    if (ptr === undefined) return false;
    if (kind === 45) {
      t.free(0, ptr, ptr === 0);
    } else if (kind === 60) {
      pendingOld = ptr;
    } else if (kind === 43 || kind === 62) {
      const size = c.hexSize();
      if (size < 0) return false;
      if (kind === 62) {
        const old = pendingOld ?? 0;
        pendingOld = undefined;
        t.realloc(0, old, old === 0, ptr, ptr === 0, size);
      } else {
        t.alloc(Op.malloc, 0, ptr, ptr === 0, size, 0);
      }
    } else {
      return false;
    }
    return c.done();
  });
}

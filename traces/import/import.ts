import { rmSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { onInterrupt } from '../platform/cleanup.js';
import { inputError, usageError } from '../platform/errors.js';
import type { TraceFooter } from '../format/index.js';
import { Op } from '../vocabulary.js';
import { type ConversionCounts, PointerTracker } from '../record/pointers.js';
import { Cursor, LineReader, type PointerKey } from './cursor.js';
import { openDump } from './dump.js';
import type { ZipChoice } from './zip.js';

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
  /**
   * Read the dump whole, every line with the cursor-based parser, and
   * deflate on the main thread: the plain path, which the fast one (the
   * dump in windows, a line parser without a cursor, compression on the
   * thread pool) must match byte for byte and error for error. The tests
   * compare the two.
   */
  reference?: boolean;
}

/** Lines parsed between two turns of the event loop (where a Ctrl-C is handled), at most. */
const LINES_PER_SLICE = 1 << 18;
/** Lines between two looks at the writer's room for more chunks (mask: every 4096). */
const ROOM_EVERY = 4095;

/** Parses the line the cursor is on and hands its call to the tracker; false for a malformed line (`c.problem` may say why). */
export type LineHandler = (c: Cursor, t: PointerTracker) => boolean;

/**
 * Parses the line starting at `pos` and hands its call to the tracker, all
 * without a cursor: the common, well-formed lines at full speed. It is
 * called only on lines that end with a LF (not on a last line without
 * one), so it may read up to that LF without checking the buffer's end. Returns
 * where the next line starts, or -1 (having changed nothing) to leave the
 * line to the LineHandler, which must accept and emit the same lines and
 * can say why the others are malformed.
 */
export type FastLineHandler = (buf: Buffer, pos: number, t: PointerTracker) => number;

/** Imports a text dump line by line into `out` (every format's shared part: reading, errors, --lenient, interrupts). */
export async function importLines(
  path: string,
  out: string,
  name: 'aosp' | 'mtrace',
  opts: ImportOptions,
  handle: LineHandler,
  fast?: FastLineHandler,
): Promise<ImportResult> {
  if (resolve(out) === resolve(path)) throw usageError(`-o ${out}: that is the dump being imported`, 'write the trace to another file (e.g. dump.trace.msgpack)');
  if (statSync(out, { throwIfNoEntry: false })?.isDirectory()) throw usageError(`-o ${out}: is a directory`, 'give the path of the trace file to write');
  const dump = await openDump(path, opts, opts.reference);
  const entry = dump.entry;
  const where = entry === undefined ? path : `${path}:${entry}`;
  // Registered before the writer creates `out.tmp`, so no signal finds the file unaccounted for.
  const dropPartial = (): void => rmSync(`${out}.tmp`, { force: true });
  const done = onInterrupt(dropPartial);
  let tracker: PointerTracker;
  try {
    tracker = new PointerTracker(out, { producer: { kind: 'import', name, params: { file: basename(path) } }, hasTime: name === 'aosp' }, { background: !opts.reference });
  } catch (e) {
    done();
    dump.close();
    throw e;
  }
  const r = new LineReader();
  let skipped = 0;
  let kept = false;
  try {
    let slice = 0;
    for (const { buf, end, last } of dump.windows()) {
      r.window(buf, end);
      const c = new Cursor(buf);
      // Lines the fast handler may read start before this: a last line without a LF is the cursor's.
      const fastEnd = fast === undefined || opts.reference ? 0 : !last ? end : end > 0 ? buf.lastIndexOf(10, end - 1) + 1 : 0;
      for (;;) {
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
        if (r.pos < fastEnd) {
          const next = fast!(buf, r.pos, tracker);
          if (next >= 0) {
            r.passed(next);
            continue;
          }
        }
        if (!r.next()) break;
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
    dump.close();
    done();
    if (!kept) dropPartial();
  }
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

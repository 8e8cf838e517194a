import { rmSync } from 'node:fs';
import { onInterrupt } from '../platform/cleanup.js';
import type { TraceFooter } from '../format/index.js';
import { Op } from '../vocabulary.js';
import { type ConversionCounts, PointerTracker } from '../record/pointers.js';
import { Cursor, LineReader, type PointerKey } from './cursor.js';
import { openDump } from './dump.js';
import { checkOutput, type DumpFormat, importHeader, malformedLine, nothingImported } from './common.js';
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
}

/** Lines parsed between two turns of the event loop (where a Ctrl-C is handled), at most. */
const LINES_PER_SLICE = 1 << 18;
/** Lines between two looks at the writer's room for more chunks (mask: every 4096). */
const ROOM_EVERY = 4095;

/** Parses the line the cursor is on and hands its call to the tracker; false for a malformed line (`c.problem` may say why). */
export type LineHandler = (c: Cursor, t: PointerTracker) => boolean;

/** Imports a text dump line by line into `out` (reading, errors, --lenient, interrupts), for the formats parsed in TypeScript. */
export async function importLines(path: string, out: string, name: DumpFormat, opts: ImportOptions, handle: LineHandler): Promise<ImportResult> {
  checkOutput(path, out);
  const dump = await openDump(path, opts);
  const entry = dump.entry;
  const where = entry === undefined ? path : `${path}:${entry}`;
  // Registered before the writer creates `out.tmp`, so no signal finds the file unaccounted for.
  const dropPartial = (): void => rmSync(`${out}.tmp`, { force: true });
  const done = onInterrupt(dropPartial);
  let tracker: PointerTracker;
  try {
    tracker = new PointerTracker(out, importHeader(name, path), { background: true });
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
    for (const { buf, end } of dump.windows()) {
      r.window(buf, end);
      const c = new Cursor(buf);
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
          if (!opts.lenient) throw malformedLine(where, r.line, c.problem, buf.toString('latin1', r.start, Math.min(r.end, r.start + 120)));
          skipped++;
        }
      }
    }
    if (tracker.counts.events === 0) throw nothingImported(where, name, r.line, skipped);
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

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inputError, usageError } from '../platform/errors.js';
import { looksLikeZip, unzipDump, type ZipChoice } from './zip.js';

/** Bytes of a plain dump read at a time: the importer's memory does not grow with the dump (a longer line grows the window). */
export const WINDOW_BYTES = 8 * 2 ** 20;

/** Whole lines of a dump, in `buf[0, end)`; each ends with a LF, except perhaps the last line of the `last` window. */
export interface DumpWindow {
  buf: Buffer;
  end: number;
  last: boolean;
}

/** A dump opened for reading, a window at a time. */
export interface Dump {
  /** The zip entry read, when the dump came zipped. */
  entry?: string;
  windows(): Iterable<DumpWindow>;
  /** Releases the file (also when the windows were not all read). */
  close(): void;
}

const cannotRead = (path: string, e: unknown): Error => {
  const code = (e as NodeJS.ErrnoException).code;
  return inputError(`${path}: cannot read (${code === 'EISDIR' ? 'a directory' : code})`, 'check the path');
};

/** Reads from `fd` into `buf[off…]` until it is full or the file ends; returns the bytes read. */
function readFull(path: string, fd: number, buf: Buffer, off: number): number {
  let got = 0;
  try {
    for (let n = 1; off + got < buf.length && n > 0; got += n) n = readSync(fd, buf, off + got, buf.length - off - got, null);
  } catch (e) {
    throw cannotRead(path, e);
  }
  return got;
}

/** A dump held whole in memory (a zip's entry, or a pipe read to its end). */
function wholeDump(data: Buffer, entry?: string): Dump {
  return { ...(entry === undefined ? {} : { entry }), windows: () => [{ buf: data, end: data.length, last: true }], close: () => undefined };
}

/**
 * Opens a dump: a plain text file is read in windows of WINDOW_BYTES (or
 * whole by openDumpSource); a zip archive (told by its first bytes) is read
 * whole and its entry inflated (see unzipDump).
 */
export function openDump(path: string, choice: ZipChoice): Promise<Dump> {
  return dumpOf(path, openFile(path), choice, false);
}

function openFile(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    throw cannotRead(path, e);
  }
}

/** openDump of the file open on `fd` (which it closes). */
async function dumpOf(path: string, fd: number, choice: ZipChoice, whole: boolean): Promise<Dump> {
  let buf = Buffer.allocUnsafe(WINDOW_BYTES);
  let filled: number;
  try {
    filled = readFull(path, fd, buf, 0);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const zip = looksLikeZip(buf.subarray(0, filled));
  if (!zip && choice.entry !== undefined) {
    closeSync(fd);
    throw usageError(`--entry ${choice.entry}: ${path} is not a zip archive`, 'leave out --entry for a plain dump');
  }
  if (zip || whole) {
    // The rest from the same descriptor (a pipe cannot be opened and read again).
    try {
      while (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
        filled += readFull(path, fd, buf, filled);
      }
    } finally {
      closeSync(fd);
    }
    const data = buf.subarray(0, filled);
    if (!zip) return wholeDump(data);
    const { data: inflated, entry } = await unzipDump(path, data, choice);
    return wholeDump(inflated, entry);
  }
  let open = true;
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  function* windows(): Generator<DumpWindow> {
    let eof = filled < buf.length;
    for (;;) {
      if (eof) {
        yield { buf, end: filled, last: true };
        return;
      }
      const lf = buf.lastIndexOf(10, filled - 1);
      if (lf < 0) {
        // One line longer than the window: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      } else {
        yield { buf, end: lf + 1, last: false };
        // The partial line after the last LF starts the next window.
        buf.copyWithin(0, lf + 1, filled);
        filled -= lf + 1;
      }
      const got = readFull(path, fd, buf, filled);
      filled += got;
      eof = filled < buf.length;
    }
  }
  return { windows, close };
}

/** A dump as a native parser takes it: a plain file's descriptor (read from its start), or the bytes of a zip's entry or of a pipe. */
export type DumpSource = { fd: number } | { data: Buffer; entry?: string };

/**
 * Opens a dump for a parser that reads it from standard input: a plain
 * regular file is handed over as it is (its descriptor; the caller closes
 * it), anything else (a zip archive, a pipe) is read whole here, and a
 * zip's entry inflated (see openDump).
 */
export async function openDumpSource(path: string, choice: ZipChoice): Promise<DumpSource> {
  const fd = openFile(path);
  let plain = false;
  try {
    if (fstatSync(fd).isFile()) {
      const head = Buffer.alloc(4);
      let n: number;
      try {
        n = readSync(fd, head, 0, 4, 0);
      } catch (e) {
        throw cannotRead(path, e);
      }
      plain = !looksLikeZip(head.subarray(0, n));
      if (plain && choice.entry !== undefined) throw usageError(`--entry ${choice.entry}: ${path} is not a zip archive`, 'leave out --entry for a plain dump');
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (plain) return { fd };
  // The same descriptor: a pipe cannot be opened and read again.
  const dump = await dumpOf(path, fd, choice, true);
  const [whole] = [...dump.windows()];
  return { data: whole!.buf.subarray(0, whole!.end), ...(dump.entry === undefined ? {} : { entry: dump.entry }) };
}

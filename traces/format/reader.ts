import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { Unpackr } from 'msgpackr';
import { inputError } from '../errors.js';
import { type EventChunk, newChunk, Op, type TraceEvent } from '../model.js';
import { ByteSource } from './columns.js';
import { LiveSet } from './live.js';
import { FORMAT_VERSION, MAGIC, type TraceFooter, type TraceHeader } from './spec.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** An open trace: its header and footer, and its events chunk by chunk. */
export interface TraceReader {
  path: string;
  header: TraceHeader;
  /** Undefined when the file was cut short. */
  footer: TraceFooter | undefined;
  /** Things a user should hear about (a truncated file), one line each. */
  warnings: string[];
  /** Bytes on disk. */
  bytes: number;
  /** Events in columns; validates ids and the checksum as it goes. */
  chunks(): Iterable<EventChunk>;
}

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Splits the file into its msgpack values; a cut-short tail is reported, not thrown. */
function values(path: string, buf: Buffer): { items: unknown[]; truncated: boolean } {
  const items: unknown[] = [];
  try {
    unpackr.unpackMultiple(buf, (v: unknown) => {
      items.push(v);
    });
    return { items, truncated: false };
  } catch (e) {
    if (items.length === 0) {
      throw inputError(`${path}: not an allocreplay trace (${(e as Error).message.split('\n')[0]})`, 'pass a .trace.msgpack file written by allocreplay');
    }
    return { items, truncated: true };
  }
}

function checkHeader(path: string, h: unknown): TraceHeader {
  if (!isObject(h) || h.magic !== MAGIC) {
    throw inputError(`${path}: not an allocreplay trace (no '${MAGIC}' header)`, 'pass a .trace.msgpack file written by allocreplay');
  }
  if (h.version !== FORMAT_VERSION) {
    throw inputError(`${path}: trace format version ${String(h.version)} is not supported (this allocreplay reads v${FORMAT_VERSION})`, 'upgrade allocreplay');
  }
  if (h.compression !== 'zlib' || typeof h.hasTime !== 'boolean') {
    throw inputError(`${path}: trace header is malformed`, 'the file is corrupt; record or generate it again');
  }
  return h as unknown as TraceHeader;
}

/**
 * Opens a trace. Throws a one-line input error for anything that is not a
 * whole or cut-short v1 trace; a cut-short file yields its whole chunks and
 * a warning.
 */
export function openTrace(path: string): TraceReader {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(`${path}: cannot read trace (${code === 'ENOENT' ? 'no such file' : String(code)})`, 'check the path');
  }
  if (buf.length === 0) throw inputError(`${path}: empty file, not a trace`, 'record or generate the trace again');
  const { items, truncated } = values(path, buf);
  const header = checkHeader(path, items[0]);
  const rest = items.slice(1);
  const last = rest[rest.length - 1];
  let footer: TraceFooter | undefined;
  if (isObject(last) && last.footer === true) {
    rest.pop();
    footer = last as unknown as TraceFooter;
  }
  const warnings: string[] = [];
  if (!footer) {
    warnings.push(`${path}: trace is cut short (no footer${truncated ? ', a partial chunk at the end' : ''}); reading its ${rest.length} whole chunks`);
  }
  for (const c of rest) {
    if (!isObject(c) || typeof c.chunk !== 'number' || typeof c.events !== 'number') {
      throw inputError(`${path}: trace has a malformed chunk`, 'the file is corrupt; record or generate it again');
    }
  }
  return {
    path,
    header,
    footer,
    warnings,
    bytes: statSync(path).size,
    chunks: () => decodeChunks(path, header, rest as Raw[], footer),
  };
}

function column(path: string, c: Raw, name: string, index: number): Uint8Array {
  const z = c[name];
  if (!(z instanceof Uint8Array)) throw inputError(`${path}: chunk ${index} lacks column '${name}'`, 'the file is corrupt');
  return z;
}

function* decodeChunks(path: string, header: TraceHeader, raw: Raw[], footer: TraceFooter | undefined): Generator<EventChunk> {
  const names = header.hasTime ? ['op', 'thread', 'object', 'size', 'arg', 'time'] : ['op', 'thread', 'object', 'size', 'arg'];
  const hash = createHash('sha256');
  const live = new LiveSet(path);
  let out = newChunk(header.chunkEvents, header.hasTime);
  let time = 0;
  for (let ci = 0; ci < raw.length; ci++) {
    const c = raw[ci]!;
    const n = c.events as number;
    if (n <= 0 || n > header.chunkEvents || c.chunk !== ci) {
      throw inputError(`${path}: chunk ${ci} is malformed (${n} events, index ${String(c.chunk)})`, 'the file is corrupt');
    }
    const cols: Record<string, ByteSource> = {};
    for (const name of names) {
      const z = column(path, c, name, ci);
      hash.update(z);
      try {
        cols[name] = new ByteSource(inflateSync(z));
      } catch {
        throw inputError(`${path}: chunk ${ci} column '${name}' does not decompress (bad checksum or corrupt data)`, 'the file is corrupt; record or generate it again');
      }
    }
    const op = cols.op!, th = cols.thread!, ob = cols.object!, sz = cols.size!, ar = cols.arg!, tm = cols.time;
    if (out.op.length < n) out = newChunk(n, header.hasTime);
    try {
      for (let i = 0; i < n; i++) {
        const o = op.u8();
        const nextId = live.nextId;
        const t = th.uvarint();
        const ov = ob.uvarint();
        const size = sz.uvarint();
        const av = ar.uvarint();
        let object: number;
        let arg: number;
        if (o === Op.free) {
          object = ov === 0 ? 0 : nextId - ov;
          arg = 0;
        } else if (o === Op.thread_exit) {
          object = 0;
          arg = 0;
        } else {
          object = ov === 0 ? nextId : 0;
          arg = o === Op.realloc ? (av === 0 ? 0 : nextId - av) : av;
        }
        live.apply(o, t, object, size, arg);
        out.op[i] = o;
        out.thread[i] = t;
        out.object[i] = object;
        out.size[i] = size;
        out.arg[i] = arg;
        if (tm) {
          time += tm.svarint();
          out.time![i] = time;
        }
      }
    } catch (e) {
      if (e instanceof RangeError) throw inputError(`${path}: chunk ${ci} has fewer values than its ${n} events`, 'the file is corrupt');
      throw e;
    }
    for (const name of names) {
      if (!cols[name]!.done) throw inputError(`${path}: chunk ${ci} column '${name}' has more values than its ${n} events`, 'the file is corrupt');
    }
    out.length = n;
    yield out;
  }
  if (footer) {
    const sum = hash.digest('hex');
    if (sum !== footer.checksum) throw inputError(`${path}: bad checksum (footer ${String(footer.checksum).slice(0, 12)}…, content ${sum.slice(0, 12)}…)`, 'the file is corrupt; record or generate it again');
    if (footer.events !== live.events) throw inputError(`${path}: footer says ${footer.events} events, chunks hold ${live.events}`, 'the file is corrupt');
  }
}

/** Every event of a (small) trace as objects; for tests and small tools. */
export function readEvents(path: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const c of openTrace(path).chunks()) {
    for (let i = 0; i < c.length; i++) {
      const e: TraceEvent = { op: c.op[i]! as TraceEvent['op'], thread: c.thread[i]!, object: c.object[i]!, size: c.size[i]!, arg: c.arg[i]! };
      if (c.time) e.time = c.time[i]!;
      events.push(e);
    }
  }
  return events;
}

/** Reads every chunk, validating the whole trace; returns the reader. */
export function validateTrace(path: string): TraceReader {
  const r = openTrace(path);
  for (const _ of r.chunks()) void _;
  return r;
}

/** The identity of a trace: its footer checksum (validated). */
export function traceChecksum(path: string): string {
  const r = openTrace(path);
  if (!r.footer) throw inputError(`${path}: trace is cut short and has no checksum`, 'record or generate it again');
  return r.footer.checksum;
}

import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Unpackr } from 'msgpackr';
import { inflateSync } from 'node:zlib';
import { inputError } from '../platform/errors.js';
import { type EventChunk, newChunk, type TraceEvent } from '../model.js';
import { Op } from '../vocabulary.js';
import { checkChunkKeys, checkFooter, checkHeader, isMap } from './checks.js';
import { LiveSet } from './live.js';
import type { TraceFooter, TraceHeader } from './spec.js';
import { measureValue, ValueStream } from './stream.js';

const hintUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

const CORRUPT = 'the file is corrupt; record or generate it again';

/**
 * An open trace, read as a stream: the header on open, then the events chunk
 * by chunk (validated against every rule of traces/FORMAT.md as they pass),
 * then the footer. Memory is bounded by one chunk and the live set.
 *
 * After `chunks()` has run to its end: `footer` is the footer (undefined when
 * the file was cut short, with a warning), `checksum` the checksum computed
 * from the content read — the trace's identity, never the footer's claim.
 */
export interface TraceReader {
  path: string;
  header: TraceHeader;
  /** Set once the chunks have been read; undefined when the file was cut short. */
  footer: TraceFooter | undefined;
  /** The checksum of the chunks read (set when they have all been read). */
  checksum: string | undefined;
  /** Things a user should hear about (a truncated file), one line each. */
  warnings: string[];
  /** Bytes on disk. */
  bytes: number;
  /** Byte offset of the first value after the header (where the chunks begin). */
  dataOffset: number;
  /** The rules' state: counts, peaks, the live set (final once the chunks are read). */
  live: LiveSet;
  /** Live bytes after each event of the chunk `chunks()` yielded last. */
  liveAfter: Float64Array;
  /** Events in columns; validates every event and the footer as it goes. Once only. */
  chunks(): Iterable<EventChunk>;
  /** Reads the structure and hashes the chunks without decoding events (for a cached plan's key). */
  scan(): void;
  /** Closes the file without reading on (a reader wanted only the header); reading ends it too. */
  close(): void;
}

const NAMES_TIME = ['op', 'thread', 'object', 'size', 'arg', 'time'] as const;
const NAMES = ['op', 'thread', 'object', 'size', 'arg'] as const;

/** Decodes `n` unsigned LEB128 values (≤ 8 bytes, < 2^53 by the caller's check) into `out`; false when the bytes do not hold exactly n. */
function uvarints(b: Uint8Array, n: number, out: Float64Array): boolean {
  const len = b.length;
  // One byte per value (no continuation bits anywhere): a plain widening copy.
  if (len === n) {
    out.set(b);
    for (let i = 0; i < n; i++) if (b[i]! >= 0x80) return false;
    return true;
  }
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (p >= len) return false;
    let byte = b[p++]!;
    if (byte < 0x80) {
      out[i] = byte;
      continue;
    }
    // Two bytes (below 16384: most sizes and distances) without the loop; past the end b[p] is undefined and falls through.
    const next = b[p]!;
    if (next < 0x80) {
      out[i] = (byte & 0x7f) | (next << 7);
      p++;
      continue;
    }
    // Up to 4 bytes (< 2^28) in int32 arithmetic; beyond, in float64 (exact below 2^53).
    let v = byte & 0x7f;
    let shift = 7;
    for (;;) {
      if (p >= len) return false;
      byte = b[p++]!;
      if (shift < 28) {
        v |= (byte & 0x7f) << shift;
        shift += 7;
        if (byte < 0x80) break;
        continue;
      }
      let f = v + (byte & 0x7f) * 2 ** shift;
      let k = shift / 7 + 1;
      while (byte >= 0x80) {
        if (p >= len || k === 8) return false;
        byte = b[p++]!;
        f += (byte & 0x7f) * 2 ** (7 * k);
        k++;
      }
      v = f;
      break;
    }
    out[i] = v;
  }
  return p === len;
}

function badDistance(path: string, event: number, op: string, d: number, nextId: number): never {
  throw inputError(`${path}: event ${event}: ${op} stores distance ${d}, which is not below the next id ${nextId} (id out of range)`, CORRUPT);
}

function badObject(path: string, event: number, ov: number): never {
  throw inputError(`${path}: event ${event}: allocation stores object ${ov} (only 0, made, or 1, failed, are allowed)`, CORRUPT);
}

class StreamReader implements TraceReader {
  readonly header: TraceHeader;
  footer: TraceFooter | undefined;
  checksum: string | undefined;
  readonly warnings: string[] = [];
  readonly bytes: number;
  readonly dataOffset: number;
  readonly live: LiveSet;
  liveAfter: Float64Array;
  private readonly stream: ValueStream;
  private used = false;

  constructor(readonly path: string) {
    this.stream = new ValueStream(path);
    this.bytes = this.stream.bytes;
    this.live = new LiveSet(path);
    try {
      if (this.bytes === 0) throw inputError(`${path}: empty file, not a trace`, 'record or generate the trace again');
      let first;
      try {
        first = this.stream.next();
      } catch (e) {
        throw inputError(`${path}: not an allocreplay trace (${(e as Error).message.replace(`${path}: `, '')})`, 'pass a .trace.msgpack file written by allocreplay');
      }
      if (!first) throw inputError(`${path}: not an allocreplay trace (the file ends inside its first value)`, 'pass a .trace.msgpack file written by allocreplay');
      this.header = checkHeader(path, first.value);
      this.dataOffset = this.stream.offset;
      this.liveAfter = new Float64Array(0);
    } catch (e) {
      this.stream.close();
      throw e;
    }
  }

  close(): void {
    this.stream.close();
  }

  private claim(): void {
    if (this.used) throw new Error('a TraceReader reads its chunks once');
    this.used = true;
  }

  /** The chunk maps after the header, checked for shape and hashed; then the footer. */
  private *rawChunks(): Generator<Record<string, unknown>> {
    const { path, header } = this;
    const names = header.hasTime ? NAMES_TIME : NAMES;
    const hash = createHash('sha256');
    let index = 0;
    try {
      for (;;) {
        const v = this.stream.next();
        if (!v) break;
        if (isMap(v.value) && v.value.footer !== undefined) {
          this.footer = checkFooter(path, v.value);
          if (this.stream.next() !== undefined || this.stream.cutShort) {
            throw inputError(`${path}: byte ${this.stream.offset}: data after the footer`, CORRUPT);
          }
          break;
        }
        const c = checkChunkKeys(path, v.value, index, header, names);
        for (const name of names) hash.update(c[name] as Uint8Array);
        yield c;
        index++;
      }
    } finally {
      this.stream.close();
    }
    this.checksum = hash.digest('hex');
    if (!this.footer) {
      this.warnings.push(`${path}: trace is cut short (no footer${this.stream.cutShort ? ', a partial value at the end' : ''}); read its ${index} whole chunks`);
    } else if (this.footer.checksum !== this.checksum) {
      throw inputError(`${path}: bad checksum (footer ${this.footer.checksum.slice(0, 12)}…, content ${this.checksum.slice(0, 12)}…)`, CORRUPT);
    }
  }

  scan(): void {
    this.claim();
    for (const _ of this.rawChunks()) void _;
  }

  *chunks(): Generator<EventChunk> {
    this.claim();
    const { path, header, live } = this;
    const names = header.hasTime ? NAMES_TIME : NAMES;
    // Sized to the largest chunk seen, not the header's claim: small traces stay cheap to open.
    let cap = 0;
    let out = newChunk(0, header.hasTime);
    let cols: Float64Array[] = [];
    let liveAfter = this.liveAfter;
    let time = 0;
    let ci = 0;
    for (const c of this.rawChunks()) {
      const n = c.events as number;
      if (n > cap) {
        cap = n;
        out = newChunk(cap, header.hasTime);
        cols = names.map(() => new Float64Array(cap));
        // Sizes and args are decoded straight into the chunk handed out (args of reallocs then rewritten in place).
        cols[3] = out.size;
        cols[4] = out.arg;
        liveAfter = this.liveAfter = new Float64Array(cap);
      }
      let ops: Uint8Array | undefined;
      for (let k = 0; k < names.length; k++) {
        const name = names[k]!;
        let raw: Uint8Array;
        try {
          raw = inflateSync(c[name] as Uint8Array, { maxOutputLength: k === 0 ? n : n * 8 + 1 });
        } catch {
          throw inputError(`${path}: chunk ${ci} column '${name}' does not decompress to at most ${n} values (corrupt data)`, CORRUPT);
        }
        if (k === 0) {
          if (raw.length !== n) throw inputError(`${path}: chunk ${ci} column 'op' holds ${raw.length} values for ${n} events`, CORRUPT);
          ops = raw;
        } else if (!uvarints(raw, n, cols[k]!)) {
          throw inputError(`${path}: chunk ${ci} column '${name}' does not hold exactly ${n} varints of at most 8 bytes`, CORRUPT);
        }
      }
      const th = cols[1]!, ob = cols[2]!, sz = out.size, ar = out.arg, tm = header.hasTime ? cols[5]! : undefined;
      const outOp = out.op, outThread = out.thread, outObject = out.object;
      outOp.set(ops!);
      for (let i = 0; i < n; i++) {
        const o = ops![i]!;
        const nextId = live.nextId;
        const ov = ob[i]!;
        let object: number;
        if (o === Op.free) {
          object = ov === 0 ? 0 : nextId - ov;
          if (ov !== 0 && ov >= nextId) badDistance(path, live.events, 'free', ov, nextId);
        } else if (o === Op.thread_exit) {
          object = ov;
        } else {
          if (ov > 1) badObject(path, live.events, ov);
          object = ov === 0 ? nextId : 0;
          if (o === Op.realloc) {
            const av = ar[i]!;
            if (av !== 0) {
              if (av >= nextId) badDistance(path, live.events, 'realloc', av, nextId);
              ar[i] = nextId - av;
            }
          }
        }
        const t = th[i]!;
        live.step(o, t, object, sz[i]!, ar[i]!);
        liveAfter[i] = live.liveBytes;
        outThread[i] = t;
        outObject[i] = object;
        if (tm) {
          const z = tm[i]!;
          time += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
          if (!Number.isSafeInteger(time)) throw inputError(`${path}: event ${live.events - 1}: time ${time} ns is beyond 2^53 − 1`, CORRUPT);
          out.time![i] = time;
        }
      }
      out.length = n;
      ci++;
      yield out;
    }
    const f = this.footer;
    if (f) {
      const l = live;
      const got: [string, number][] = [
        ['events', l.events],
        ['objects', l.nextId - 1],
        ['threads', l.threads],
        ['peakLiveObjects', l.peakLiveObjects],
        ['peakLiveBytes', l.peakLiveBytes],
      ];
      for (const [k, v] of got) {
        const said = (f as unknown as Record<string, number>)[k];
        if (said !== v) throw inputError(`${path}: footer says ${k} ${said}, the chunks hold ${v}`, CORRUPT);
      }
    }
  }

}

/**
 * Opens a trace and reads its header. Throws a one-line input error for
 * anything that is not a v1 trace; the events are read by `chunks()`.
 */
export function openTrace(path: string): TraceReader {
  return new StreamReader(path);
}

/**
 * The footer a trace's last bytes claim to be, unchecked, or undefined. Only
 * a hint (to look for a cached plan before reading the whole trace): a
 * trace's identity is always the checksum computed from its chunks.
 */
export function claimedFooter(path: string): TraceFooter | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const tail = new Uint8Array(Math.min(size, 512));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    for (let k = 0; k < tail.length; k++) {
      if ((tail[k]! & 0xf0) !== 0x80 && tail[k] !== 0xde) continue; // a footer is a map
      if (measureValue(tail, k, tail.length) !== tail.length) continue;
      try {
        const v = hintUnpackr.unpack(tail.subarray(k));
        if (isMap(v) && v.footer === true) return checkFooter(path, v);
      } catch {
        // not a footer here; try the next offset
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
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

/** Reads every chunk, validating the whole trace; returns the reader (footer undefined when cut short). */
export function validateTrace(path: string): TraceReader {
  const r = openTrace(path);
  for (const _ of r.chunks()) void _;
  return r;
}

import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { deflate, deflateSync, type ZlibOptions } from 'node:zlib';
import { Packr } from 'msgpackr';
import { failure } from '../platform/errors.js';
import type { EventChunk } from '../model.js';
import { Op } from '../vocabulary.js';
import { ByteSink } from './columns.js';
import { LiveSet } from './live.js';
import {
  CHUNK_EVENTS,
  COLUMN_DTYPES,
  COLUMNS,
  type ColumnName,
  FORMAT_VERSION,
  MAGIC,
  type TraceFooter,
  type TraceHeader,
  type TraceHeaderInit,
} from './spec.js';

export const packr = new Packr({ useRecords: false, variableMapSize: true });

/** Every column is deflated with these settings, on either path: the bytes written must not depend on the path. */
const DEFLATE: ZlibOptions = { level: 1, memLevel: 9 };

/** Chunks handed to the thread pool and not yet written, at most, before `room()` makes the producer wait. */
const CHUNKS_IN_FLIGHT = 8;

export interface WriterOptions {
  /**
   * Deflate chunks on libuv's thread pool while the producer makes the next
   * ones (two cores: one parses, one compresses). Chunks are still written
   * in order, so the file is byte-for-byte the one the plain writer makes.
   * The producer must then `await room()` now and then (it bounds the
   * chunks in flight, and lets finished ones reach the file) and end with
   * `finish()` instead of `close()`.
   */
  background?: boolean;
}

/** A chunk whose columns are being deflated off the main thread. */
interface ChunkInFlight {
  head: { chunk: number; events: number };
  names: readonly ColumnName[];
  columns: Buffer[];
  /** Columns still being deflated. */
  left: number;
}

/** The msgpack bytes of the v1 header for `init` (the record converter copies them in front of its chunks). */
export function encodeHeader(init: TraceHeaderInit): Uint8Array {
  const hasTime = init.hasTime ?? false;
  const header: TraceHeader = {
    magic: MAGIC,
    version: FORMAT_VERSION,
    producer: init.producer,
    created: init.created ?? null,
    host: init.host ?? null,
    threadNames: init.threadNames ?? [],
    hasTime,
    chunkEvents: CHUNK_EVENTS,
    compression: 'zlib',
    columns: hasTime ? COLUMN_DTYPES : { ...COLUMN_DTYPES, time: 'absent' },
    ...(init.program ? { program: init.program } : {}),
  };
  return packr.pack(header);
}

/**
 * Streams events into a v1 trace file. Events are buffered as columns and
 * written a chunk (≤ 64 Ki events) at a time; the file appears under its
 * name only on close(), so a reader never sees a half-written trace unless
 * the writer was killed (then `.tmp` holds the whole chunks written so far).
 */
export class TraceWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private readonly hash: Hash = createHash('sha256');
  private readonly live: LiveSet;
  private readonly hasTime: boolean;
  private readonly sinks = {
    op: new ByteSink(),
    thread: new ByteSink(),
    object: new ByteSink(),
    size: new ByteSink(),
    arg: new ByteSink(),
    time: new ByteSink(),
  };
  private n = 0;
  private chunkIndex = 0;
  private prevTime = 0;
  private closed = false;
  private readonly background: boolean;
  /** Background chunks in file order; the head is written as soon as all its columns are deflated. */
  private readonly inFlight: ChunkInFlight[] = [];
  /** The first error of the background work (a deflate or a write): raised by the next room() or finish(). */
  private failed: unknown;
  /** Resolves whoever waits in room() or finish() when a background chunk has been written. */
  private wake: (() => void) | undefined;

  private constructor(
    private readonly path: string,
    init: TraceHeaderInit,
    opts: WriterOptions,
  ) {
    this.tmp = `${path}.tmp`;
    this.background = opts.background ?? false;
    this.live = new LiveSet(path);
    this.hasTime = init.hasTime ?? false;
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      throw failure(`cannot write ${path}: ${(e as Error).message}`, 'check the directory exists and is writable');
    }
    this.out(encodeHeader(init));
  }

  /** Opens `path` for writing (the file is created on close). */
  static open(path: string, init: TraceHeaderInit, opts: WriterOptions = {}): TraceWriter {
    return new TraceWriter(path, init, opts);
  }

  private out(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
  }

  /**
   * Appends one event (see TraceEvent for the meaning of each field). Throws
   * an input error when the event breaks the object-id rules.
   */
  push(op: number, thread: number, object: number, size: number, arg: number, time = 0): void {
    const nextId = this.live.nextId;
    this.live.apply(op, thread, object, size, arg);
    const s = this.sinks;
    s.op.u8(op);
    s.thread.uvarint(thread);
    if (op === Op.free) {
      // Freed ids as a distance back from the next new id: small for young objects.
      s.object.uvarint(object === 0 ? 0 : nextId - object);
      s.arg.uvarint(0);
    } else if (op === Op.thread_exit) {
      s.object.uvarint(0);
      s.arg.uvarint(0);
    } else {
      // An allocation's id is implied (always the next id): store only success.
      s.object.uvarint(object === 0 ? 1 : 0);
      s.arg.uvarint(op === Op.realloc ? (arg === 0 ? 0 : nextId - arg) : arg);
    }
    s.size.uvarint(size);
    if (this.hasTime) {
      s.time.svarint(time - this.prevTime);
      this.prevTime = time;
    }
    if (++this.n === CHUNK_EVENTS) this.flush();
  }

  /** Appends every event of a column chunk. */
  pushChunk(c: EventChunk): void {
    for (let i = 0; i < c.length; i++) {
      this.push(c.op[i]!, c.thread[i]!, c.object[i]!, c.size[i]!, c.arg[i]!, c.time ? c.time[i]! : 0);
    }
  }

  private flush(): void {
    if (this.n === 0) return;
    const head = { chunk: this.chunkIndex++, events: this.n };
    const names: readonly ColumnName[] = this.hasTime ? COLUMNS : COLUMNS.slice(0, 5);
    if (this.background) {
      // The sinks are reused for the next chunk at once: the pool gets copies.
      const c: ChunkInFlight = { head, names, columns: [], left: names.length };
      this.inFlight.push(c);
      names.forEach((name, i) => {
        const bytes = this.sinks[name].bytes().slice();
        // One output buffer as large as the input (plus zlib's worst-case growth) saves the main thread a callback per 16 KiB.
        deflate(bytes, { ...DEFLATE, chunkSize: Math.max(16_384, bytes.length + (bytes.length >> 8) + 64) }, (err, z) => {
          if (err) this.failed ??= err;
          c.columns[i] = z;
          if (--c.left === 0) this.writeFinished();
        });
      });
    } else {
      this.writeChunk(
        head,
        names,
        names.map((name) => deflateSync(this.sinks[name].bytes(), DEFLATE)),
      );
    }
    for (const name of names) this.sinks[name].reset();
    this.n = 0;
  }

  private writeChunk(head: ChunkInFlight['head'], names: readonly ColumnName[], columns: Buffer[]): void {
    const chunk: Record<string, unknown> = { ...head };
    names.forEach((name, i) => {
      this.hash.update(columns[i]!);
      chunk[name] = columns[i];
    });
    this.out(packr.pack(chunk));
  }

  /** Writes the leading background chunks whose columns are all deflated (runs in a zlib callback: never throws). */
  private writeFinished(): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.left === 0) {
      const c = this.inFlight.shift()!;
      if (this.closed || this.failed !== undefined) continue;
      try {
        this.writeChunk(c.head, c.names, c.columns);
      } catch (e) {
        this.failed = e;
      }
    }
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * With `background`: a promise to await when enough chunks are in flight
   * (undefined when there is room). Throws the background work's error.
   */
  room(): Promise<void> | undefined {
    if (this.failed !== undefined) throw this.failed;
    if (this.inFlight.length < CHUNKS_IN_FLIGHT) return undefined;
    return new Promise((res) => (this.wake = res));
  }

  /** close() for either kind of writer: waits for the chunks in flight first. */
  async finish(): Promise<TraceFooter> {
    this.flush();
    while (this.inFlight.length > 0) await new Promise<void>((res) => (this.wake = res));
    if (this.failed !== undefined) throw this.failed;
    return this.close();
  }

  /** Writes the last chunk and the footer, and moves the file into place. */
  close(): TraceFooter {
    if (this.closed) throw new Error('TraceWriter closed twice');
    this.flush();
    if (this.inFlight.length > 0) throw new Error('TraceWriter.close() with chunks in flight: use finish()');
    const l = this.live;
    const footer: TraceFooter = {
      events: l.events,
      objects: l.nextId - 1,
      threads: l.threads,
      peakLiveObjects: l.peakLiveObjects,
      peakLiveBytes: l.peakLiveBytes,
      checksum: this.hash.digest('hex'),
    };
    this.out(packr.pack({ footer: true, ...footer }));
    closeSync(this.fd);
    this.closed = true;
    renameSync(this.tmp, this.path);
    return footer;
  }

  /** Drops the partial file. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.tmp, { force: true });
  }
}

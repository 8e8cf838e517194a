import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import { failure } from '../errors.js';
import { type EventChunk, Op } from '../model.js';
import { ByteSink } from './columns.js';
import { LiveSet } from './live.js';
import {
  CHUNK_EVENTS,
  COLUMN_DTYPES,
  FORMAT_VERSION,
  MAGIC,
  type TraceFooter,
  type TraceHeader,
  type TraceHeaderInit,
} from './spec.js';

export const packr = new Packr({ useRecords: false, variableMapSize: true });

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

  private constructor(
    private readonly path: string,
    init: TraceHeaderInit,
  ) {
    this.tmp = `${path}.tmp`;
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
  static open(path: string, init: TraceHeaderInit): TraceWriter {
    return new TraceWriter(path, init);
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
    const chunk: Record<string, unknown> = { chunk: this.chunkIndex++, events: this.n };
    const names = this.hasTime
      ? (['op', 'thread', 'object', 'size', 'arg', 'time'] as const)
      : (['op', 'thread', 'object', 'size', 'arg'] as const);
    for (const name of names) {
      const z = deflateSync(this.sinks[name].bytes(), { level: 1, memLevel: 9 });
      this.hash.update(z);
      chunk[name] = z;
      this.sinks[name].reset();
    }
    this.out(packr.pack(chunk));
    this.n = 0;
  }

  /** Writes the last chunk and the footer, and moves the file into place. */
  close(): TraceFooter {
    if (this.closed) throw new Error('TraceWriter closed twice');
    this.flush();
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

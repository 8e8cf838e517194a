import { type TraceFooter, type TraceHeaderInit, TraceWriter, type WriterOptions } from '../format/index.js';
import { Op } from '../vocabulary.js';
import { PointerMap } from './pointer-map.js';

/** What converting pointer-level calls into a trace counted and left out. */
export interface ConversionCounts {
  events: number;
  /** free(NULL) calls: `record` keeps them as events (so `trace info` counts the same); importers drop them (not replayed). */
  nullFrees: number;
  /** Frees (and reallocs) of pointers never seen allocated: not replayed. */
  unknownFrees: number;
  /** An address handed out again while we thought it live: its free was not seen; a free is synthesised. */
  lostFrees: number;
  failedAllocations: number;
}

/**
 * Turns calls on pointers (as recorded or imported) into address-free
 * events: each successful allocation gets the next dense object id, a
 * realloc ends the old object and starts a new one, threads get dense
 * indices in order of appearance. Keys are pointers in any form that is
 * unique per address (numbers, or hex strings for 64-bit tagged pointers).
 */
export class PointerTracker {
  private readonly w: TraceWriter;
  private readonly live = new PointerMap();
  private readonly threads = new Map<number, number>();
  /** A direct-mapped cache of `threads` (by the id's low 8 bits): most events skip the Map. -1 = empty. */
  private readonly tidKeys = new Float64Array(256).fill(-1);
  private readonly tidValues = new Int32Array(256);
  private nextThread = 0;
  private nextId = 1;
  private t0: number | undefined;
  readonly counts: ConversionCounts = { events: 0, nullFrees: 0, unknownFrees: 0, lostFrees: 0, failedAllocations: 0 };

  constructor(out: string, init: TraceHeaderInit, opts: WriterOptions = {}) {
    this.w = TraceWriter.open(out, init, opts);
  }

  private thread(tid: number): number {
    const h = tid & 255;
    if (this.tidKeys[h] === tid) return this.tidValues[h]!;
    let t = this.threads.get(tid);
    if (t === undefined) {
      t = this.nextThread++;
      this.threads.set(tid, t);
    }
    this.tidKeys[h] = tid;
    this.tidValues[h] = t;
    return t;
  }

  private time(ns: number): number {
    if (this.t0 === undefined) this.t0 = ns;
    return Math.max(0, ns - this.t0);
  }

  private emit(op: number, thread: number, object: number, size: number, arg: number, ns: number): void {
    this.w.push(op, thread, object, size, arg, this.time(ns));
    this.counts.events++;
  }

  /** A new object at `ptr` (0/null for a failed call). */
  alloc(op: number, tid: number, ptr: number | string, isNull: boolean, size: number, arg: number, ns = 0): void {
    const th = this.thread(tid);
    if (isNull) {
      this.counts.failedAllocations++;
      this.emit(op, th, 0, size, arg, ns);
      return;
    }
    this.emit(op, th, this.claim(ptr, th, ns), size, arg, ns);
  }

  /** The next object id, now live at `ptr`. An address handed out while still live means the free we missed happened: it is emitted first. */
  private claim(ptr: number | string, th: number, ns: number): number {
    const id = this.nextId++;
    const stale = this.live.put(ptr, id);
    if (stale !== undefined) {
      this.counts.lostFrees++;
      this.emit(Op.free, th, stale, 0, 0, ns);
    }
    return id;
  }

  free(tid: number, ptr: number | string, isNull: boolean, ns = 0): void {
    if (isNull) {
      this.counts.nullFrees++;
      return;
    }
    const id = this.live.take(ptr);
    if (id === undefined) {
      this.counts.unknownFrees++;
      return;
    }
    this.emit(Op.free, this.thread(tid), id, 0, 0, ns);
  }

  realloc(tid: number, old: number | string, oldNull: boolean, ptr: number | string, isNull: boolean, size: number, ns = 0): void {
    const th = this.thread(tid);
    let oldId = 0;
    if (!oldNull) {
      const id = this.live.get(old);
      if (id === undefined) this.counts.unknownFrees++;
      else oldId = id;
    }
    if (isNull && size > 0) {
      // Failed: the old block lives on.
      this.counts.failedAllocations++;
      this.emit(Op.realloc, th, 0, size, oldId, ns);
      return;
    }
    if (oldId) this.live.delete(old);
    if (isNull) {
      if (oldId) this.emit(Op.realloc, th, 0, 0, oldId, ns);
      return;
    }
    this.emit(Op.realloc, th, this.claim(ptr, th, ns), size, oldId, ns);
  }

  threadExit(tid: number, ns = 0): void {
    this.emit(Op.thread_exit, this.thread(tid), 0, 0, 0, ns);
    // A later thread with the same id (reused by the kernel) is a new thread: a new index (FORMAT.md, "Events").
    this.threads.delete(tid);
    this.tidKeys[tid & 255] = -1;
  }

  /** The writer's room() (a `background` writer's bound on chunks in flight). */
  room(): Promise<void> | undefined {
    return this.w.room();
  }

  /** Frees nothing left live (a trace may end with live objects) and closes the file, once its chunks in flight are written. */
  finish(): Promise<TraceFooter> {
    return this.w.finish();
  }

  abort(): void {
    this.w.abort();
  }
}

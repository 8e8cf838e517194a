import { type TraceFooter, type TraceHeaderInit, TraceWriter, type WriterOptions } from '../format/index.js';
import { Op } from '../model.js';
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
  private nextThread = 0;
  private nextId = 1;
  private t0: number | undefined;
  readonly counts: ConversionCounts = { events: 0, nullFrees: 0, unknownFrees: 0, lostFrees: 0, failedAllocations: 0 };

  constructor(out: string, init: TraceHeaderInit, opts: WriterOptions = {}) {
    this.w = TraceWriter.open(out, init, opts);
  }

  private thread(tid: number): number {
    let t = this.threads.get(tid);
    if (t === undefined) {
      t = this.nextThread++;
      this.threads.set(tid, t);
    }
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
    this.forget(ptr, th, ns);
    const id = this.nextId++;
    this.live.set(ptr, id);
    this.emit(op, th, id, size, arg, ns);
  }

  /** An address handed out while still live: the free we missed happened. */
  private forget(ptr: number | string, th: number, ns: number): void {
    const stale = this.live.get(ptr);
    if (stale === undefined) return;
    this.counts.lostFrees++;
    this.live.delete(ptr);
    this.emit(Op.free, th, stale, 0, 0, ns);
  }

  free(tid: number, ptr: number | string, isNull: boolean, ns = 0): void {
    if (isNull) {
      this.counts.nullFrees++;
      return;
    }
    const id = this.live.get(ptr);
    if (id === undefined) {
      this.counts.unknownFrees++;
      return;
    }
    this.live.delete(ptr);
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
    this.forget(ptr, th, ns);
    const id = this.nextId++;
    this.live.set(ptr, id);
    this.emit(Op.realloc, th, id, size, oldId, ns);
  }

  threadExit(tid: number, ns = 0): void {
    this.emit(Op.thread_exit, this.thread(tid), 0, 0, 0, ns);
    // A later thread with the same id (reused by the kernel) is a new thread: a new index (FORMAT.md, "Events").
    this.threads.delete(tid);
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

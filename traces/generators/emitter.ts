import { Op } from '../vocabulary.js';
import type { TraceWriter } from '../format/index.js';

/**
 * Writes generated events with the id bookkeeping done once: allocations
 * take the next dense id, and `budget` says how many events are left so a
 * generator can end with every object freed and exactly `ops` events.
 */
export class Emitter {
  private nextId = 1;
  events = 0;

  constructor(
    private readonly w: TraceWriter,
    readonly ops: number,
  ) {}

  /** Events left before the total reaches `ops`. */
  get budget(): number {
    return this.ops - this.events;
  }

  alloc(thread: number, size: number, op: number = Op.malloc, arg = 0): number {
    const id = this.nextId++;
    this.w.push(op, thread, id, size, arg);
    this.events++;
    return id;
  }

  free(thread: number, id: number): void {
    this.w.push(Op.free, thread, id, 0, 0);
    this.events++;
  }

  realloc(thread: number, old: number, size: number): number {
    const id = this.nextId++;
    this.w.push(Op.realloc, thread, id, size, old);
    this.events++;
    return id;
  }

  threadExit(thread: number): void {
    this.w.push(Op.thread_exit, thread, 0, 0, 0);
    this.events++;
  }
}

/**
 * A working set of slots, each empty (0) or holding a live object id. Shared
 * by the generators that pick slots at random.
 */
export class Slots {
  readonly ids: Uint32Array;
  readonly owner: Uint32Array;
  live = 0;

  constructor(n: number) {
    this.ids = new Uint32Array(n);
    this.owner = new Uint32Array(n);
  }

  put(slot: number, id: number, thread = 0): void {
    this.ids[slot] = id;
    this.owner[slot] = thread;
    this.live++;
  }

  take(slot: number): number {
    const id = this.ids[slot]!;
    this.ids[slot] = 0;
    this.live--;
    return id;
  }

  /** The first full slot at or after `from`, wrapping; -1 when all are empty. */
  fullFrom(from: number): number {
    const n = this.ids.length;
    for (let k = 0; k < n; k++) {
      const s = (from + k) % n;
      if (this.ids[s] !== 0) return s;
    }
    return -1;
  }
}

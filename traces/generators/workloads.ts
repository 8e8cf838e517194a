import { Emitter, Slots } from './emitter.js';
import { Prng } from './prng.js';

/** Parameters every generator receives, already validated against its definition. */
export type Params = Record<string, number>;

/**
 * One step over a working set: the slot's object is freed when the slot is
 * full, else a new object is allocated — unless that would leave too few
 * events to free everything, in which case some live object is freed
 * instead. Returns false when the budget is spent.
 */
function slotStep(e: Emitter, slots: Slots, slot: number, thread: number, size: () => number, freer = thread): boolean {
  const left = e.budget - slots.live;
  if (left <= 0) return false;
  if (slots.ids[slot] !== 0) {
    e.free(freer, slots.take(slot));
  } else if (left >= 2) {
    slots.put(slot, e.alloc(thread, size()), thread);
  } else {
    const s = slots.fullFrom(slot);
    if (s < 0) {
      // One event left and nothing live: a free(NULL), which programs do too.
      e.free(thread, 0);
    } else {
      e.free(freer, slots.take(s));
    }
  }
  return true;
}

/** Frees every live slot, by the thread that owns it (or `thread`). */
function drain(e: Emitter, slots: Slots, thread?: number): void {
  for (let s = 0; s < slots.ids.length; s++) {
    if (slots.ids[s] !== 0) {
      const owner = slots.owner[s]!;
      e.free(thread ?? owner, slots.take(s));
    }
  }
}

/** hakmem's random_mixed: random slots of a working set, alloc when empty, free when full. */
export function randomMixed(e: Emitter, p: Params): void {
  const rng = new Prng(p.seed!);
  const slots = new Slots(p.slots!);
  const size = (): number => rng.range(p.min!, p.max!);
  while (slotStep(e, slots, rng.below(p.slots!), 0, size));
  drain(e, slots);
}

/** tiny_hot: batches of one size allocated then freed in reverse, on one thread. */
export function tinyHot(e: Emitter, p: Params): void {
  const batch = p.batch!;
  const ids = new Uint32Array(batch);
  while (e.budget >= 2) {
    const n = Math.min(batch, Math.floor(e.budget / 2));
    for (let i = 0; i < n; i++) ids[i] = e.alloc(0, p.size!);
    for (let i = n - 1; i >= 0; i--) e.free(0, ids[i]!);
  }
  if (e.budget === 1) e.free(0, 0);
}

/**
 * larson: each thread works on its own slots, but with probability `cross`
 * it picks a slot of another thread, so objects are freed by threads that
 * did not allocate them. Threads end with thread_exit.
 */
export function larson(e: Emitter, p: Params): void {
  const rng = new Prng(p.seed!);
  const threads = p.threads!;
  const per = p.slots!;
  const slots = new Slots(threads * per);
  const size = (): number => rng.range(p.min!, p.max!);
  const cross = p.cross! / 100;
  // Keep room for the thread_exit events at the end.
  const reserve = threads;
  for (;;) {
    if (e.budget - reserve - slots.live <= 0) break;
    const t = rng.below(threads);
    const region = rng.chance(cross) ? rng.below(threads) : t;
    const slot = region * per + rng.below(per);
    const left = e.budget - reserve - slots.live;
    if (slots.ids[slot] !== 0) {
      e.free(t, slots.take(slot));
    } else if (left >= 2) {
      slots.put(slot, e.alloc(t, size()), t);
    } else {
      const s = slots.fullFrom(slot);
      if (s < 0) e.free(t, 0);
      else e.free(t, slots.take(s));
    }
  }
  // Each thread frees what is left in its own region, then ends.
  for (let t = 0; t < threads; t++) {
    for (let s = t * per; s < (t + 1) * per; s++) if (slots.ids[s] !== 0) e.free(t, slots.take(s));
    e.threadExit(t);
  }
}

/** producer-consumer: thread 0 allocates, thread 1 frees, through a bounded FIFO. */
export function producerConsumer(e: Emitter, p: Params): void {
  const rng = new Prng(p.seed!);
  const depth = p.depth!;
  const queue: number[] = [];
  let head = 0;
  const reserve = 2;
  while (e.budget - reserve - (queue.length - head) > 0) {
    const inFlight = queue.length - head;
    const left = e.budget - reserve - inFlight;
    const produce = inFlight === 0 || (inFlight < depth && left >= 2 && rng.chance(0.5));
    if (produce && left >= 2) queue.push(e.alloc(0, rng.range(p.min!, p.max!)));
    else if (inFlight > 0) e.free(1, queue[head++]!);
    else e.free(1, 0);
  }
  while (head < queue.length) e.free(1, queue[head++]!);
  e.threadExit(0);
  e.threadExit(1);
}

/** realloc-grow: buffers grown by realloc (×growth%) up to max, then freed. */
export function reallocGrow(e: Emitter, p: Params): void {
  const rng = new Prng(p.seed!);
  const slots = new Slots(p.slots!);
  const sizes = new Float64Array(p.slots!);
  while (e.budget - slots.live > 0) {
    const s = rng.below(p.slots!);
    const left = e.budget - slots.live;
    if (slots.ids[s] === 0) {
      if (left >= 2) {
        sizes[s] = p.min!;
        slots.put(s, e.alloc(0, p.min!));
      } else {
        const f = slots.fullFrom(s);
        if (f < 0) e.free(0, 0);
        else e.free(0, slots.take(f));
      }
    } else if (sizes[s]! >= p.max!) {
      e.free(0, slots.take(s));
    } else {
      const grown = Math.min(p.max!, Math.ceil((sizes[s]! * p.growth!) / 100) + rng.below(16));
      sizes[s] = grown;
      slots.ids[s] = e.realloc(0, slots.ids[s]!, grown);
    }
  }
  drain(e, slots);
}

/**
 * phases: long-lived objects accumulate while waves of short-lived ones come
 * and go, so the heap fragments the way servers' heaps do.
 */
export function phases(e: Emitter, p: Params): void {
  const rng = new Prng(p.seed!);
  const longLived = new Slots(p.slots!);
  const wave = new Uint32Array(p.wave!);
  for (;;) {
    const left = e.budget - longLived.live;
    if (left < 2) break;
    // One phase: a wave of short-lived objects, a few of them promoted to long-lived.
    const n = Math.min(p.wave!, Math.floor(left / 2) - 1);
    if (n <= 0) break;
    let made = 0;
    for (let i = 0; i < n; i++) wave[made++] = e.alloc(0, rng.range(p.min!, p.max!));
    for (let i = 0; i < made; i++) {
      const slot = rng.below(p.slots!);
      if (rng.chance(p.keep! / 100) && longLived.ids[slot] === 0 && e.budget - longLived.live - (made - i) >= 2) {
        longLived.put(slot, wave[i]!);
      } else {
        e.free(0, wave[i]!);
      }
    }
    // Some long-lived objects die at each phase end.
    const kill = rng.below(1 + (longLived.live >> 2));
    for (let k = 0; k < kill && e.budget - longLived.live > 0; k++) {
      const s = longLived.fullFrom(rng.below(p.slots!));
      if (s >= 0) e.free(0, longLived.take(s));
    }
  }
  drain(e, longLived);
  while (e.budget > 0) e.free(0, 0);
}

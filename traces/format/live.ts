import { inputError } from '../platform/errors.js';
import { Op } from '../vocabulary.js';
import { MAX_OBJECT_ID, MAX_THREADS, MAX_VALUE } from './spec.js';

/**
 * The live objects of a trace as it streams past: an open-addressing hash
 * table (linear probing, backward-shift deletion) from object id to its
 * size in bytes and the thread that made it. Memory follows the live set,
 * never the number of objects ever made: ids are dense and die.
 */
export class LiveTable {
  private keys = new Uint32Array(1024); // 0 = empty slot (ids start at 1)
  private bytes = new Float64Array(1024);
  private owners = new Uint16Array(1024);
  private mask = 1023;
  private shift = 22; // 32 − log2(capacity)
  size = 0;

  private slot(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const { keys, bytes, owners } = this;
    const cap = keys.length * 2;
    this.keys = new Uint32Array(cap);
    this.bytes = new Float64Array(cap);
    this.owners = new Uint16Array(cap);
    this.mask = cap - 1;
    this.shift--;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.set(keys[i]!, bytes[i]!, owners[i]!);
  }

  /** Adds id (which must not be present). */
  set(id: number, size: number, owner: number): void {
    if (this.size * 2 >= this.keys.length) this.grow();
    let i = this.slot(id);
    while (this.keys[i] !== 0) i = (i + 1) & this.mask;
    this.keys[i] = id;
    this.bytes[i] = size;
    this.owners[i] = owner;
    this.size++;
  }

  /** Slot of id, or −1 when it is not live. */
  find(id: number): number {
    let i = this.slot(id);
    for (;;) {
      const k = this.keys[i]!;
      if (k === id) return i;
      if (k === 0) return -1;
      i = (i + 1) & this.mask;
    }
  }

  sizeAt(slot: number): number {
    return this.bytes[slot]!;
  }

  ownerAt(slot: number): number {
    return this.owners[slot]!;
  }

  /** Removes the entry in `slot`, shifting later entries of its run back. */
  removeAt(slot: number): void {
    const { keys, bytes, owners, mask } = this;
    let hole = slot;
    let i = slot;
    for (;;) {
      i = (i + 1) & mask;
      const k = keys[i]!;
      if (k === 0) break;
      const home = this.slot(k);
      // Move k into the hole unless its home lies cyclically in (hole, i].
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        keys[hole] = k;
        bytes[hole] = bytes[i]!;
        owners[hole] = owners[i]!;
        hole = i;
      }
    }
    keys[hole] = 0;
    this.size--;
  }
}

/**
 * Enforces the event rules of format v1 (traces/FORMAT.md, "Events") while
 * events stream past, and keeps the footer's counts. One instance serves the
 * writer (to refuse bad input), the reader (to validate) and statistics.
 * Memory: the live set, plus 64 KiB of per-thread state.
 */
export class LiveSet {
  /** The id the next successful allocation must take. */
  nextId = 1;
  liveObjects = 0;
  liveBytes = 0;
  peakLiveObjects = 0;
  peakLiveBytes = 0;
  threads = 0;
  events = 0;
  readonly table = new LiveTable();
  /** Threads that have ended (1 per thread index). */
  private readonly exited = new Uint8Array(MAX_THREADS);

  constructor(private readonly where: string) {}

  private fail(what: string): never {
    throw inputError(`${this.where}: event ${this.events}: ${what}`, 'the trace is corrupt or was written by a faulty producer');
  }

  /** A successful allocation of `bytes` bytes creates object `id`. */
  private create(id: number, bytes: number, thread: number): void {
    if (id !== this.nextId || id > MAX_OBJECT_ID || bytes > MAX_VALUE || this.liveBytes + bytes > MAX_VALUE) this.badCreate(id, bytes);
    this.nextId++;
    this.table.set(id, bytes, thread);
    this.liveObjects++;
    this.liveBytes += bytes;
    if (this.liveObjects > this.peakLiveObjects) this.peakLiveObjects = this.liveObjects;
    if (this.liveBytes > this.peakLiveBytes) this.peakLiveBytes = this.liveBytes;
  }

  private badCreate(id: number, bytes: number): never {
    if (id !== this.nextId) this.fail(`allocation creates object ${id}, expected ${this.nextId} (ids are dense, in allocation order)`);
    if (id > MAX_OBJECT_ID) this.fail(`object ${id} is beyond the ${MAX_OBJECT_ID} objects a trace may make`);
    if (bytes > MAX_VALUE) this.fail(`allocation of ${bytes} bytes is larger than 2^53 − 1`);
    this.fail(`allocation of ${bytes} bytes brings the live bytes past 2^53 − 1 (the footer's peakLiveBytes could not hold them)`);
  }

  /** The slot of a live object an event names; fails when it is unknown or dead. */
  private liveSlot(id: number, op: string): number {
    const slot = id >= 1 && id < this.nextId ? this.table.find(id) : -1;
    if (slot < 0) this.badEnd(id, op);
    return slot;
  }

  private badEnd(id: number, op: string): never {
    if (!(id >= 1 && id < this.nextId)) this.fail(`${op} of object ${id}, which does not exist yet (id out of range)`);
    this.fail(`${op} of object ${id}, which is already dead (double free)`);
  }

  /** Ends object `id`. */
  private end(id: number, op: string): void {
    const slot = this.liveSlot(id, op);
    this.liveObjects--;
    this.liveBytes -= this.table.sizeAt(slot);
    this.table.removeAt(slot);
  }

  /** Size in bytes of a live object (0 when not live). */
  sizeOf(id: number): number {
    const slot = this.table.find(id);
    return slot < 0 ? 0 : this.table.sizeAt(slot);
  }

  isLive(id: number): boolean {
    return id > 0 && this.table.find(id) >= 0;
  }

  /**
   * Applies one event (in the meaning of TraceEvent); throws an input error
   * naming the event when it breaks a rule.
   */
  apply(op: number, thread: number, object: number, size: number, arg: number): void {
    if (!Number.isInteger(thread) || !Number.isInteger(size) || !Number.isInteger(arg) || !Number.isInteger(object)) {
      this.fail(`thread ${thread}, object ${object}, size ${size}, argument ${arg}: not all integers`);
    }
    this.step(op, thread, object, size, arg);
  }

  /** apply() for integers (the reader's varints are, by construction). */
  step(op: number, thread: number, object: number, size: number, arg: number): void {
    if (!(thread >= 0 && thread < MAX_THREADS && size >= 0 && size <= MAX_VALUE && arg >= 0 && arg <= MAX_VALUE)) this.badValues(thread, size, arg);
    if (thread >= this.threads) this.threads = thread + 1;
    else if (this.exited[thread] !== 0) this.fail(`thread ${thread} has an event after its thread_exit`);
    if (op === Op.malloc && arg === 0) {
      if (object !== 0) this.create(object, size, thread);
    } else if (op === Op.free && object !== 0 && size === 0 && arg === 0) {
      this.end(object, 'free');
    } else this.other(op, thread, object, size, arg);
    this.events++;
  }

  private badValues(thread: number, size: number, arg: number): never {
    if (!(thread >= 0 && thread < MAX_THREADS)) this.fail(`thread index ${thread} is not in 0 … ${MAX_THREADS - 1}`);
    if (!(size >= 0 && size <= MAX_VALUE)) this.fail(`size ${size} is not an integer in 0 … 2^53 − 1`);
    this.fail(`argument ${arg} is not an integer in 0 … 2^53 − 1`);
  }

  /** Every op but the common malloc and free. */
  private other(op: number, thread: number, object: number, size: number, arg: number): void {
    switch (op) {
      case Op.free:
        if (size !== 0 || arg !== 0) this.fail('free with a non-zero size or argument');
        if (object !== 0) this.end(object, 'free');
        break;
      case Op.thread_exit:
        if (object !== 0 || size !== 0 || arg !== 0) this.fail('thread_exit with an object, size or argument');
        this.exited[thread] = 1;
        break;
      case Op.realloc:
        // A failed realloc (NULL for a non-zero size) leaves the old object live.
        if (object === 0 && size > 0) {
          if (arg !== 0) this.liveSlot(arg, 'realloc');
          break;
        }
        if (arg !== 0) this.end(arg, 'realloc');
        if (object !== 0) this.create(object, size, thread);
        break;
      case Op.calloc:
        if (object !== 0) this.create(object, size * arg, thread);
        break;
      case Op.memalign:
      case Op.posix_memalign:
      case Op.aligned_alloc:
        // Only a successful call must have asked for a power of two: a recorded program may ask for anything and fail.
        if (object !== 0 && !(arg >= 1 && 2 ** Math.round(Math.log2(arg)) === arg)) this.fail(`alignment ${arg} is not a power of two`);
        if (object !== 0) this.create(object, size, thread);
        break;
      case Op.malloc:
      case Op.valloc:
      case Op.pvalloc:
        if (arg !== 0) this.fail('malloc, valloc or pvalloc with a non-zero argument');
        if (object !== 0) this.create(object, size, thread);
        break;
      default:
        this.fail(`unknown op code ${op}`);
    }
  }
}

import { inputError } from '../errors.js';
import { Op } from '../model.js';

/**
 * Tracks which objects are live while events stream past, enforcing the
 * object-id rules of format v1 and keeping the footer's counts. One instance
 * serves the writer (to refuse bad input), the reader (to validate) and
 * statistics (peaks, live bytes). Memory: 9 bytes per object id.
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
  private state = new Uint8Array(1 << 16); // 0 never seen, 1 live, 2 dead
  private bytes = new Float64Array(1 << 16);

  constructor(private readonly where: string) {}

  private fail(what: string): never {
    throw inputError(`${this.where}: event ${this.events}: ${what}`, 'the trace is corrupt or was written by a faulty producer');
  }

  private ensure(id: number): void {
    if (id < this.state.length) return;
    let cap = this.state.length * 2;
    while (cap <= id) cap *= 2;
    const s = new Uint8Array(cap);
    s.set(this.state);
    this.state = s;
    const b = new Float64Array(cap);
    b.set(this.bytes);
    this.bytes = b;
  }

  /** A successful allocation of `bytes` bytes creates object `id`. */
  private create(id: number, bytes: number): void {
    if (id !== this.nextId) this.fail(`allocation creates object ${id}, expected ${this.nextId} (ids are dense, in allocation order)`);
    this.ensure(id);
    this.nextId++;
    this.state[id] = 1;
    this.bytes[id] = bytes;
    this.liveObjects++;
    this.liveBytes += bytes;
    if (this.liveObjects > this.peakLiveObjects) this.peakLiveObjects = this.liveObjects;
    if (this.liveBytes > this.peakLiveBytes) this.peakLiveBytes = this.liveBytes;
  }

  /** Ends object `id`; returns its size in bytes. */
  private end(id: number, op: string): number {
    if (id >= this.nextId) this.fail(`${op} of object ${id}, which does not exist yet (id out of range)`);
    const s = this.state[id];
    if (s === 2) this.fail(`${op} of object ${id}, which is already dead (double free)`);
    const bytes = this.bytes[id]!;
    this.state[id] = 2;
    this.liveObjects--;
    this.liveBytes -= bytes;
    return bytes;
  }

  /** Size in bytes of a live object (0 when not live). */
  sizeOf(id: number): number {
    return this.state[id] === 1 ? this.bytes[id]! : 0;
  }

  isLive(id: number): boolean {
    return id > 0 && id < this.nextId && this.state[id] === 1;
  }

  /** Applies one event; throws an input error naming the event on a rule broken. */
  apply(op: number, thread: number, object: number, size: number, arg: number): void {
    if (thread + 1 > this.threads) this.threads = thread + 1;
    switch (op) {
      case Op.free:
        if (object !== 0) this.end(object, 'free');
        break;
      case Op.thread_exit:
        break;
      case Op.realloc:
        // A failed realloc (NULL for a non-zero size) leaves the old object live.
        if (object === 0 && size > 0) break;
        if (arg !== 0) this.end(arg, 'realloc');
        if (object !== 0) this.create(object, size);
        break;
      case Op.calloc:
        if (object !== 0) this.create(object, size * arg);
        break;
      case Op.malloc:
      case Op.memalign:
      case Op.posix_memalign:
      case Op.aligned_alloc:
      case Op.valloc:
      case Op.pvalloc:
        if (object !== 0) this.create(object, size);
        break;
      default:
        this.fail(`unknown op code ${op}`);
    }
    this.events++;
  }
}

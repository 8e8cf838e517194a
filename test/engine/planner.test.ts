/**
 * The native planner (engine/native/planner.c, traces/native/trace_in.c)
 * against the TypeScript reader, the oracle of what a trace holds: every
 * op of a plan, decoded here, is the reader's event after the left-out rule
 * (failed allocations), the metadata is what the reader computes, and every
 * trace the reader refuses the planner refuses with the reader's own
 * one-line error, leaving nothing in the plan cache.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLAN_LAYOUT, planFor, planSections, prunePlans, SERIES_SAMPLES } from '../../engine/index.js';
import { AllocreplayError, cacheDir, generate, isAlloc, Op, openTrace, Prng, TraceWriter } from '../../traces/index.js';
import { CORPUS_CASES, CORPUS_SEED, corpusBases, writeCase } from '../fuzz/corpus.js';
import { tempDir } from '../helpers.js';
import { craftTrace, type Stored, writeWithCounts } from '../traces/craft.js';

const { header: H, rec: R, gap: G, slot: S } = PLAN_LAYOUT;
const dir = tempDir();

beforeAll(() => {
  process.env.ALLOCREPLAY_CACHE = tempDir('allocreplay-cache-');
  delete process.env.ALLOCREPLAY_CACHE_MAX;
});

/** Columns of ops, so a long trace compares without an object per op. */
interface Ops {
  op: number[];
  thread: number[];
  object: number[];
  size: number[];
  arg: number[];
  gap: number[];
  /** The slot the streamed driver keeps the op's object in. */
  slot: number[];
}
const noOps = (): Ops => ({ op: [], thread: [], object: [], size: [], arg: [], gap: [], slot: [] });

/** The plan file's ops, decoded by its layout (plan.h): records, wide values, gaps, slots. */
function decodePlan(path: string): { ops: Ops; threads: number; nobjects: number; nslots: number } {
  const b = readFileSync(path);
  expect(b.subarray(0, 8).toString('latin1')).toBe(PLAN_LAYOUT.magic);
  expect(b.readUInt32LE(H.version)).toBe(PLAN_LAYOUT.version);
  const n = Number(b.readBigUInt64LE(H.nops));
  const nwide = Number(b.readBigUInt64LE(H.nwide));
  const ngaps = Number(b.readBigUInt64LE(H.ngaps));
  expect(b.readUInt32LE(H.nslotOps)).toBe(n);
  const at = planSections(n, ngaps, n, nwide);
  expect(Number(b.readBigUInt64LE(H.fileBytes))).toBe(b.length);
  expect(at.end).toBe(b.length);
  const ops = noOps();
  let w = 0;
  const wide = (): number => Number(b.readBigUInt64LE(at.wide + 8 * w++));
  for (let i = 0; i < n; i++) {
    const rec = at.recs + i * R.bytes;
    const op = b[rec + R.op]!;
    const aux = b[rec + R.aux]!;
    ops.op.push(op);
    ops.thread.push(b.readUInt16LE(rec + R.thread));
    ops.object.push(b.readUInt32LE(rec + R.obj));
    ops.size.push(aux & R.wideSize ? wide() : b.readUInt32LE(rec + R.size));
    ops.arg.push(op === Op.calloc || op === Op.realloc ? wide() : op === Op.memalign || op === Op.posix_memalign || op === Op.aligned_alloc ? 2 ** (aux & R.alignMask) : 0);
    ops.gap.push(ngaps ? b.readUInt32LE(at.gap + i * G.bytes) : 0);
    ops.slot.push(b.readUInt32LE(at.slot + i * S.bytes));
  }
  expect(w).toBe(nwide);
  return { ops, threads: b.readUInt32LE(H.threads), nobjects: Number(b.readBigUInt64LE(H.nobjects)), nslots: b.readUInt32LE(H.nslots) };
}

/**
 * The streamed driver's slots, as its decoder assigned them before the planner did: a made object takes the
 * most recently freed slot, else a new one (from 1). An op's slot is its object's; a realloc's is its old
 * object's (the new one takes that slot straight back), or the new one's from realloc(NULL).
 */
class Slots {
  private readonly of = new Map<number, number>();
  private readonly free: number[] = [];
  /** One past the highest slot taken: the peak live set + 1. */
  next = 1;
  end(id: number): number {
    const s = this.of.get(id)!;
    this.of.delete(id);
    this.free.push(s);
    return s;
  }
  make(id: number): number {
    const s = this.free.pop() ?? this.next++;
    this.of.set(id, s);
    return s;
  }
  step(op: number, object: number, arg: number): number {
    if (op === Op.free) return object ? this.end(object) : 0;
    if (op === Op.thread_exit) return 0;
    const ended = op === Op.realloc && arg ? this.end(arg) : 0;
    const made = object ? this.make(object) : 0;
    return ended || made;
  }
}

/**
 * What the plan must hold, from the TypeScript reader: its events without
 * the failed allocations, the recorded ns the clock advanced before each,
 * and the live bytes after each.
 */
function fromReader(path: string): { ops: Ops; live: number[]; checksum: string; threads: number; nextId: number; nslots: number; footer: object } {
  const r = openTrace(path);
  const ops = noOps();
  const slots = new Slots();
  const live: number[] = [];
  let clock = 0;
  let owed = 0;
  for (const c of r.chunks()) {
    for (let i = 0; i < c.length; i++) {
      if (c.time && c.time[i]! > clock) {
        owed += c.time[i]! - clock;
        clock = c.time[i]!;
      }
      const o = c.op[i]!;
      if (c.object[i] === 0 && isAlloc(o) && !(o === Op.realloc && c.size[i] === 0)) continue;
      ops.op.push(o);
      ops.thread.push(c.thread[i]!);
      ops.object.push(c.object[i]!);
      ops.size.push(c.size[i]!);
      ops.arg.push(c.arg[i]!);
      ops.gap.push(c.time ? Math.min(owed, G.max) : 0);
      ops.slot.push(slots.step(o, c.object[i]!, c.arg[i]!));
      owed = 0;
      live.push(r.liveAfter[i]!);
    }
  }
  return { ops, live, checksum: r.checksum!, threads: r.live.threads, nextId: r.live.nextId, nslots: slots.next, footer: r.footer! };
}

/** The first op where two columns differ, or undefined. */
function firstDiff(a: Ops, b: Ops): string | undefined {
  if (a.op.length !== b.op.length) return `${a.op.length} ops, not ${b.op.length}`;
  for (const k of Object.keys(a) as (keyof Ops)[]) {
    for (let i = 0; i < a[k].length; i++) if (a[k][i] !== b[k][i]) return `op ${i} ${k}: ${a[k][i]}, not ${b[k][i]}`;
  }
  return undefined;
}

/** The reader's verdict on a trace as planFor words it: an error, or undefined when it plans. */
function readerVerdict(path: string): AllocreplayError | undefined {
  try {
    const r = openTrace(path);
    for (const _ of r.chunks()) void _;
    if (!r.footer) return new AllocreplayError('input', `${path}: trace is cut short (no footer)`, 'replay needs a whole trace; record or generate it again');
    return undefined;
  } catch (e) {
    return e as AllocreplayError;
  }
}

const planFiles = (): string[] => readdirSync(cacheDir('plans'));

/** Plans `path` in an empty cache and holds the plan (or the refusal) to the reader's. */
function check(path: string): 'planned' | 'refused' {
  prunePlans(0);
  const want = readerVerdict(path);
  if (want) {
    let got: unknown;
    try {
      planFor(path);
    } catch (e) {
      got = e;
    }
    expect(got, path).toBeInstanceOf(AllocreplayError);
    const err = got as AllocreplayError;
    expect({ code: err.code, message: err.message, hint: err.hint }, path).toEqual({ code: want.code, message: want.message, hint: want.hint });
    expect(err.oneLine()).not.toMatch(/\n/);
    expect(err.message.startsWith(`${path}: `)).toBe(true);
    expect(planFiles(), path).toEqual([]);
    return 'refused';
  }
  const plan = planFor(path);
  const r = fromReader(path);
  const p = decodePlan(plan.planPath);
  expect(firstDiff(p.ops, r.ops), path).toBeUndefined();
  expect(plan.checksum).toBe(r.checksum);
  expect(plan.planPath.endsWith(`${r.checksum}-v${PLAN_LAYOUT.version}.plan`)).toBe(true);
  expect(plan.ops).toBe(r.ops.op.length);
  expect(plan.threads).toBe(r.threads);
  expect(p.threads).toBe(Math.max(1, r.threads));
  expect(p.nobjects).toBe(r.nextId);
  expect(p.nslots).toBe(r.nslots);
  const every = Math.floor(plan.ops / SERIES_SAMPLES) + 1;
  const at: number[] = [];
  for (let i = every; i < plan.ops && at.length < SERIES_SAMPLES; i += every) at.push(r.live[i]!);
  expect(plan.sampleEvery).toBe(every);
  expect(plan.liveBytesAt).toEqual(at);
  expect(JSON.parse(readFileSync(`${plan.planPath}.json`, 'utf8')).footer).toEqual(r.footer);
  expect(planFiles().sort()).toEqual([`${r.checksum}-v${PLAN_LAYOUT.version}.plan`, `${r.checksum}-v${PLAN_LAYOUT.version}.plan.json`]);
  return 'planned';
}

/** A copy of `src` with a time column: a clock that steps back now and then (threads' clocks interleave) and leaps past 2^32 ns. */
function withTime(src: string, dst: string): string {
  const w = TraceWriter.open(dst, { producer: { kind: 'record', name: 'record' }, hasTime: true });
  let n = 0;
  for (const c of openTrace(src).chunks()) {
    for (let i = 0; i < c.length; i++, n++) w.push(c.op[i]!, c.thread[i]!, c.object[i]!, c.size[i]!, c.arg[i]!, n * 1000 - (n % 5 === 0 ? 3000 : 0) + Math.floor(n / 9999) * 2 ** 33);
  }
  w.close();
  return dst;
}

/**
 * Every op and argument the format has, on four threads: sizes past 2^32,
 * calloc's nmemb, every aligned allocation, realloc(NULL), realloc(p, 0),
 * failed allocations and reallocs (left out), free(NULL), thread_exit;
 * over two chunks.
 */
function everyOp(path: string, hasTime: boolean): string {
  const w = TraceWriter.open(path, { producer: { kind: 'generate', name: 'test' }, hasTime });
  const rng = new Prng(23);
  const live: number[] = [];
  let next = 1;
  let t = 0;
  const make = (op: number, th: number, size: number, arg: number): void => {
    w.push(op, th, next, size, arg, (t += rng.below(50)));
    live.push(next++);
  };
  const take = (): number => live.splice(rng.below(live.length), 1)[0]!;
  for (let i = 0; i < 100_000; i++) {
    const th = rng.below(3);
    const k = rng.below(16);
    if (live.length > 64 && k < 6) w.push(Op.free, th, take(), 0, 0, (t += 7));
    else if (k === 6) make(Op.malloc, th, 2 ** 32 + rng.below(1000), 0);
    else if (k === 7) make(Op.calloc, th, 1 + rng.below(64), 1 + rng.below(2 ** 20));
    else if (k === 8) make([Op.memalign, Op.posix_memalign, Op.aligned_alloc][rng.below(3)]!, th, 100, 2 ** rng.below(20));
    else if (k === 9) make(rng.chance(0.5) ? Op.valloc : Op.pvalloc, th, 5000, 0);
    else if (k === 10 && live.length) {
      const old = take();
      if (rng.chance(0.1)) w.push(Op.realloc, th, 0, 0, old, (t += 3)); // realloc(p, 0): ends p
      else make(Op.realloc, th, rng.chance(0.2) ? 2 ** 40 : 1 + rng.below(4096), old);
    } else if (k === 11) make(Op.realloc, th, 64, 0); // realloc(NULL)
    else if (k === 12) w.push(rng.chance(0.5) ? Op.malloc : Op.memalign, th, 0, 2 ** 50, 0, (t += 2)); // failed: left out
    else if (k === 15) w.push(Op.aligned_alloc, th, 0, 8, 24, (t += 2)); // failed, and any alignment may be refused
    else if (k === 13 && live.length) w.push(Op.realloc, th, 0, 2 ** 50, live[0]!, (t -= 5)); // failed: the old block lives on
    else if (k === 14) w.push(Op.free, th, 0, 0, 0, t);
    else make(Op.malloc, th, rng.below(300), 0);
  }
  w.push(Op.malloc, 3, next++, 8, 0, t);
  w.push(Op.thread_exit, 3, 0, 0, 0, t);
  w.close();
  return path;
}

describe('the native plan is the reader\'s events', () => {
  it('for generated traces with and without time, and one with every op', () => {
    const traces: string[] = [];
    const gens: [string, Record<string, number>][] = [
      ['random-mixed', { slots: 300, ops: 150_000, seed: 3 }],
      ['larson', { threads: 4, ops: 100_000, seed: 2 }],
      ['realloc-grow', { ops: 3000 }],
      ['phases', { ops: 50_000 }],
      ['producer-consumer', { ops: 20_000, seed: 4 }],
      ['tiny-hot', { ops: 5000, batch: 3 }],
    ];
    for (const [name, params] of gens) {
      const p = join(dir, `${name}.trace.msgpack`);
      generate(name, params, p);
      traces.push(p, withTime(p, join(dir, `${name}-time.trace.msgpack`)));
    }
    traces.push(everyOp(join(dir, 'every.trace.msgpack'), false), everyOp(join(dir, 'every-time.trace.msgpack'), true));
    for (const p of traces) expect(check(p), p).toBe('planned');
  });

  it('for every case of the fuzz corpus: the same plan, or the same refusal', () => {
    const bases = corpusBases(dir);
    const rng = new Prng(CORPUS_SEED);
    const seen = { planned: 0, refused: 0 };
    for (let k = 0; k < CORPUS_CASES; k++) {
      const p = join(dir, `case${k}.trace.msgpack`);
      writeCase(p, bases, k, rng);
      seen[check(p)]++;
    }
    // The corpus reaches both sides of every rule.
    expect(seen.planned).toBeGreaterThan(100);
    expect(seen.refused).toBeGreaterThan(1000);
  });
});

describe('hostile traces the reader refuses, the planner refuses in its words', () => {
  const M = Op.malloc;
  const ev: Stored[] = [[M, 0, 0, 8, 0], [Op.free, 0, 1, 0, 0]];
  /** ev as a whole, valid trace. */
  const good = (): Buffer => craftTrace(ev, { footer: { events: 2, objects: 1, threads: 1, peakLiveObjects: 1, peakLiveBytes: 8 } });
  let n = 0;
  const file = (bytes: Uint8Array): string => {
    const p = join(dir, `h${n++}.trace.msgpack`);
    writeFileSync(p, bytes);
    return p;
  };
  const withCounts = (events: Stored[], o = {}): string => {
    const p = join(dir, `h${n++}.trace.msgpack`);
    writeWithCounts(p, events, o);
    return p;
  };
  const packr = new Packr({ useRecords: false, variableMapSize: true });
  /** The values of a good trace: header, chunks, footer. */
  const values = (): Record<string, unknown>[] => {
    const items: Record<string, unknown>[] = [];
    new Unpackr({ useRecords: false, mapsAsObjects: true }).unpackMultiple(good(), (v: unknown) => void items.push(v as Record<string, unknown>));
    return items;
  };
  /** A good trace whose chunk is re-packed after `f` changed it (the checksum is over the columns: it still holds unless they change). */
  const chunkMutated = (f: (c: Record<string, unknown>) => unknown): string => chunkRaw((c) => (f(c), packr.pack(c)));
  /** A good trace with the bytes `f` makes in place of its chunk. */
  const chunkRaw = (f: (c: Record<string, unknown>) => Uint8Array): string => {
    const items = values();
    const parts: Uint8Array[] = items.map((v) => packr.pack(v));
    parts[1] = f(items[1]!);
    return file(Buffer.concat(parts));
  };
  const zl = (bytes: number[]): Buffer => deflateSync(Buffer.from(bytes));
  /** A chunk map packed by hand: its entries with `key`'s value as the bytes given, then `extra` entries. */
  const rawChunk = (c: Record<string, unknown>, key: string | undefined, bytes: number[], extra: [Uint8Array, Uint8Array][] = []): Buffer => {
    const entries: Uint8Array[] = [];
    for (const [k, v] of Object.entries(c)) entries.push(packr.pack(k), k === key ? Buffer.from(bytes) : packr.pack(v));
    for (const [k, v] of extra) entries.push(k, v);
    // fixmap: at most 15 entries
    return Buffer.concat([Buffer.from([0x80 | (entries.length / 2)]), ...entries]);
  };

  it('each is refused as the reader refuses it, and the rules it may not refuse are kept', () => {
    const cases: [string, string, 'refused' | 'planned'][] = [
      ['free distance to id 0', withCounts([[M, 0, 0, 8, 0], [Op.free, 0, 2, 0, 0]]), 'refused'],
      ['realloc distance beyond', withCounts([[M, 0, 0, 8, 0], [Op.realloc, 0, 0, 8, 7]]), 'refused'],
      ['double free', withCounts([[M, 0, 0, 8, 0], [Op.free, 0, 1, 0, 0], [M, 0, 0, 8, 0], [Op.free, 0, 2, 0, 0]]), 'refused'],
      ['alignment 24', withCounts([[Op.memalign, 0, 0, 8, 24]]), 'refused'],
      ['thread 70000', withCounts([[M, 70000, 0, 8, 0]]), 'refused'],
      ['event after thread_exit', withCounts([[M, 0, 0, 8, 0], [Op.thread_exit, 0, 0, 0, 0], [Op.free, 0, 1, 0, 0]]), 'refused'],
      ['size 2^53', withCounts([[M, 0, 0, 2 ** 53, 0]]), 'refused'],
      ['object column 2', withCounts([[M, 0, 2, 8, 0]]), 'refused'],
      ['op 11', withCounts([[11, 0, 0, 8, 0]]), 'refused'],
      ['malloc with an argument', withCounts([[M, 0, 0, 8, 5]]), 'refused'],
      ['free with a size', withCounts([[M, 0, 0, 8, 0], [Op.free, 0, 1, 8, 0]]), 'refused'],
      ['failed realloc of a dead object', withCounts([[M, 0, 0, 8, 0], [Op.free, 0, 1, 0, 0], [Op.realloc, 0, 1, 8, 1]]), 'refused'],
      ['calloc past 2^53', withCounts([[Op.calloc, 0, 0, 2 ** 30, 2 ** 30]]), 'refused'],
      ['calloc product far past 2^53', withCounts([[Op.calloc, 0, 0, 2 ** 53 - 1, 2 ** 53 - 3]]), 'refused'],
      ['live bytes past 2^53', withCounts([[M, 0, 0, 2 ** 52, 0], [M, 0, 0, 2 ** 52, 0]]), 'refused'],
      ['time past 2^53', withCounts([[M, 0, 0, 8, 0, 2 ** 54]], { hasTime: true }), 'refused'],
      ['thread_exit with a size', withCounts([[Op.thread_exit, 0, 0, 5, 0]]), 'refused'],
      ['failed allocations, any alignment, free(NULL), realloc(p, 0)', withCounts([[Op.memalign, 0, 1, 8, 24], [M, 1, 0, 8, 0], [Op.realloc, 0, 1, 0, 1], [Op.free, 0, 0, 0, 0], [Op.thread_exit, 1, 0, 0, 0]]), 'planned'],
      ['a footer checksum of the wrong type', withCounts(ev, { footer: { checksum: 12345 } }), 'refused'],
      ['a footer checksum in upper case', withCounts(ev, { footer: { checksum: 'A'.repeat(64) } }), 'refused'],
      ['footer events as a string', withCounts(ev, { footer: { events: '2' } }), 'refused'],
      ['footer events as a float', withCounts(ev, { footer: { events: 2.5 } }), 'refused'],
      ['footer objects 2^60', withCounts(ev, { footer: { objects: 2 ** 60 } }), 'refused'],
      ['footer events that disagree', withCounts(ev, { footer: { events: 3 } }), 'refused'],
      ['a footer peak that disagrees', withCounts(ev, { footer: { peakLiveBytes: 9 } }), 'refused'],
      ['footer: true is a string', withCounts(ev, { footer: { footer: 'yes' } }), 'refused'],
      ['version 2 (the header, read by the TypeScript side)', withCounts(ev, { header: { version: 2 } }), 'refused'],
      ['no footer', file(craftTrace(ev, { noFooter: true })), 'refused'],
      ['a header alone', file(craftTrace([], { noFooter: true })), 'refused'],
      ['chunk index 1', chunkMutated((c) => (c.chunk = 1)), 'refused'],
      ['chunk index as a string', chunkMutated((c) => (c.chunk = '0')), 'refused'],
      ['chunk index 0.0 as a float64 (an integer, so kept)', chunkRaw((c) => rawChunk(c, 'chunk', [0xcb, 0, 0, 0, 0, 0, 0, 0, 0])), 'planned'],
      ['chunk index 0.5 as a float32', chunkRaw((c) => rawChunk(c, 'chunk', [0xca, 0x3f, 0, 0, 0])), 'refused'],
      ['events as a uint64', chunkRaw((c) => rawChunk(c, 'events', [0xcf, 0, 0, 0, 0, 0, 0, 0, 2])), 'planned'],
      ['events as a negative int8', chunkRaw((c) => rawChunk(c, 'events', [0xd0, 0xfe])), 'refused'],
      ['a duplicate key: the last value counts', chunkRaw((c) => rawChunk(c, undefined, [], [[packr.pack('chunk'), packr.pack(5)]])), 'refused'],
      ['a key that is a number', chunkRaw((c) => rawChunk(c, undefined, [], [[Buffer.from([0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), packr.pack(1)]])), 'refused'],
      ['a key that is nil', chunkRaw((c) => rawChunk(c, undefined, [], [[Buffer.from([0xc0]), packr.pack(1)]])), 'refused'],
      ['70000 events', chunkMutated((c) => (c.events = 70000)), 'refused'],
      ['3 events for 2', chunkMutated((c) => (c.events = 3)), 'refused'],
      ['a stray key', chunkMutated((c) => (c.extra = 1)), 'refused'],
      ['a stray key, long and unicode', chunkMutated((c) => (c['ключ'.repeat(15)] = 1)), 'refused'],
      ['a stray numeric key after a named one', chunkMutated((c) => Object.assign(c, { zz: 1, 7: 2, 3: 4 })), 'refused'],
      ['a __proto__ key', chunkRaw((c) => rawChunk(c, undefined, [], [[packr.pack('__proto__'), packr.pack(1)]])), 'refused'],
      ['a time key without time', chunkMutated((c) => (c.time = zl([0, 0]))), 'refused'],
      ['a column that is a string', chunkMutated((c) => (c.size = 'x"\n\u0001'.repeat(20))), 'refused'],
      ['a column missing', chunkMutated((c) => delete c.arg), 'refused'],
      ['a column that is an array', chunkMutated((c) => (c.op = [1, 4])), 'refused'],
      ['a column that is not zlib', chunkMutated((c) => (c.op = Buffer.from([1, 4]))), 'refused'],
      ['a column inflating past its events', chunkMutated((c) => (c.op = zl([1, 4, 1]))), 'refused'],
      ['a column with data after its zlib stream (ignored, as node:zlib does)', chunkMutated((c) => (c.op = Buffer.concat([c.op as Buffer, Buffer.from([7, 7])]))), 'refused'],
      ['a 9-byte varint', chunkMutated((c) => (c.size = zl([0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0]))), 'refused'],
      ['varints one short', chunkMutated((c) => (c.size = zl([8]))), 'refused'],
      ['varints one too many', chunkMutated((c) => (c.size = zl([8, 0, 0]))), 'refused'],
      ['a varint cut in half', chunkMutated((c) => (c.size = zl([8, 0x80]))), 'refused'],
      ['a chunk that is an array', chunkRaw(() => packr.pack([1, 2])), 'refused'],
      ['a chunk that is a string', chunkRaw(() => packr.pack('chunk')), 'refused'],
      ['a chunk that is nil', chunkRaw(() => packr.pack(null)), 'refused'],
      ['a chunk with a map as a key', chunkRaw(() => Buffer.from([0x81, 0x80, 0x01])), 'refused'],
      ['a chunk with a bin nested as a key', chunkRaw(() => Buffer.from([0x81, 0xa1, 0x61, 0x91, 0x81, 0xc4, 0x00, 0x01])), 'refused'],
      ['a chunk with byte 0xc1', chunkRaw(() => Buffer.from([0x81, 0xa1, 0x61, 0xc1])), 'refused'],
      ['a chunk with an extension type', chunkRaw(() => Buffer.from([0x81, 0xa1, 0x61, 0xd4, 0x01, 0x00])), 'refused'],
      ['a chunk nested 17 deep', chunkRaw(() => Buffer.concat([Buffer.from([0x81, 0xa1, 0x61]), Buffer.alloc(17, 0x91), Buffer.from([0])])), 'refused'],
      ['a chunk claiming a 65 MiB bin', chunkRaw(() => Buffer.from([0x81, 0xa1, 0x61, 0xc6, 0x04, 0x10, 0x00, 0x00])), 'refused'],
      ['a chunk claiming 2^31 entries', chunkRaw(() => Buffer.from([0xdf, 0x80, 0x00, 0x00, 0x00])), 'refused'],
      ['a value after the footer', file(Buffer.concat([good(), Buffer.from([0x01])])), 'refused'],
      ['half a value after the footer', file(Buffer.concat([good(), Buffer.from([0xcd, 0x01])])), 'refused'],
      ['byte 0xc1 after the footer', file(Buffer.concat([good(), Buffer.from([0xc1])])), 'refused'],
      ['a bad checksum', file(craftTrace(ev, { footer: { events: 2, objects: 1, threads: 1, peakLiveObjects: 1, peakLiveBytes: 8, checksum: '0'.repeat(64) } })), 'refused'],
      ['cut inside the footer', file(good().subarray(0, -3)), 'refused'],
      ['the good trace itself', file(good()), 'planned'],
    ];
    for (const [what, path, want] of cases) expect(check(path), `${what}: ${readerVerdict(path)?.message}`).toBe(want);
  });

  it('a path with a tab and a newline in it comes back whole in the error', () => {
    const odd = join(dir, 'a\tb\nc');
    mkdirSync(odd);
    const p = join(odd, 'x.trace.msgpack');
    writeWithCounts(p, [[M, 0, 0, 8, 0], [Op.free, 0, 1, 0, 0], [Op.free, 0, 1, 0, 0]]);
    expect(check(p)).toBe('refused');
    expect(() => planFor(p)).toThrow(`${p}: event 2: free of object 1, which is already dead (double free)`);
  });
});

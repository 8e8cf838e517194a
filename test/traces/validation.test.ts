/**
 * Validation matches traces/FORMAT.md exactly, in the one reader every
 * command uses (issue 11 item 1): each rule broken on purpose in a trace
 * whose checksum is right, so the check behind the checksum is what speaks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { Op, openTrace, traceInfo, validateTrace } from '../../traces/index.js';
import { cli, tempDir } from '../helpers.js';
import { craftTrace, type Stored, writeWithCounts } from './craft.js';

const M = Op.malloc;
const dir = tempDir();
let n = 0;
function trace(events: Stored[], o = {}): string {
  const p = join(dir, `t${n++}.trace.msgpack`);
  writeWithCounts(p, events, o);
  return p;
}

beforeAll(() => {
  process.env.ALLOCREPLAY_CACHE = tempDir('allocreplay-cache-');
});

describe('event rules', () => {
  const cases: [string, Stored[], RegExp][] = [
    ['a free whose distance is the next id (id 0)', [[M, 0, 0, 8, 0], [Op.free, 0, 2, 0, 0]], /event 1: free stores distance 2.*id out of range/],
    ['a free whose distance is beyond the next id', [[M, 0, 0, 8, 0], [Op.free, 0, 9, 0, 0]], /event 1: free stores distance 9/],
    ['a realloc of a distance beyond the next id', [[M, 0, 0, 8, 0], [Op.realloc, 0, 0, 8, 7]], /event 1: realloc stores distance 7/],
    ['a double free', [[M, 0, 0, 8, 0], [Op.free, 0, 1, 0, 0], [M, 0, 0, 8, 0], [Op.free, 0, 2, 0, 0]], /event 3: free of object 1, which is already dead/],
    ['a memalign whose alignment is not a power of two', [[Op.memalign, 0, 0, 8, 24]], /event 0: alignment 24 is not a power of two/],
    ['an aligned_alloc with alignment 0', [[Op.aligned_alloc, 0, 0, 8, 0]], /alignment 0/],
    ['a thread index beyond 65535', [[M, 70000, 0, 8, 0]], /thread index 70000/],
    ['an event after its thread_exit', [[M, 0, 0, 8, 0], [Op.thread_exit, 0, 0, 0, 0], [Op.free, 0, 1, 0, 0]], /event 2: thread 0 has an event after its thread_exit/],
    ['a size of 2^53', [[M, 0, 0, 2 ** 53, 0]], /size 9007199254740992/],
    ['an allocation whose object column is 2', [[M, 0, 2, 8, 0]], /stores object 2/],
    ['an unknown op code', [[11, 0, 0, 8, 0]], /unknown op code 11/],
    ['a malloc with an argument', [[M, 0, 0, 8, 5]], /non-zero argument/],
    ['a free with a size', [[M, 0, 0, 8, 0], [Op.free, 0, 1, 8, 0]], /free with a non-zero size/],
    ['a failed realloc of a dead object', [[M, 0, 0, 8, 0], [Op.free, 0, 1, 0, 0], [Op.realloc, 0, 1, 8, 1]], /event 2: realloc of object 1, which is already dead/],
    ['a calloc larger than 2^53', [[Op.calloc, 0, 0, 2 ** 30, 2 ** 30]], /larger than 2\^53/],
  ];
  it.each(cases)('%s is an error naming the event', (_, events, msg) => {
    const p = trace(events);
    expect(() => validateTrace(p)).toThrow(msg);
  });

  it('accepts what the rules allow: failed allocations with any alignment, free(NULL), realloc(p, 0)', () => {
    const p = trace([
      [Op.memalign, 0, 1, 8, 24], // failed: alignment not checked
      [M, 1, 0, 8, 0],
      [Op.realloc, 0, 1, 0, 1], // realloc(p, 0) returned NULL: ends p
      [Op.free, 0, 0, 0, 0],
      [Op.thread_exit, 1, 0, 0, 0],
    ]);
    const r = validateTrace(p);
    expect(r.footer).toMatchObject({ events: 5, objects: 1, threads: 2 });
    expect(r.live.liveObjects).toBe(0);
  });
});

describe('header, chunk and footer fields', () => {
  const ev: Stored[] = [[M, 0, 0, 8, 0], [Op.free, 0, 1, 0, 0]];
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['chunkEvents −1', { header: { chunkEvents: -1 } }, /header field 'chunkEvents' must be an integer in 1 … 65536, not -1/],
    ['chunkEvents 2^32', { header: { chunkEvents: 2 ** 32 } }, /'chunkEvents'.*not 4294967296/],
    ['chunkEvents a string', { header: { chunkEvents: '9' } }, /'chunkEvents'/],
    ['hasTime a number', { header: { hasTime: 1 } }, /'hasTime' must be a bool/],
    ['a producer that is a string', { header: { producer: 'me' } }, /'producer' must be a map/],
    ['an unknown column dtype', { header: { columns: { op: 'u8', thread: 'u32', object: 'uvarint', size: 'uvarint', arg: 'uvarint', time: 'absent' } } }, /columns.thread/],
    ['version 2', { header: { version: 2 } }, /version 2 is not supported/],
    ['a footer checksum of the wrong type', { footer: { checksum: 12345 } }, /footer field 'checksum' must be 64 lowercase hex digits, not 12345/],
    ['footer events as a string', { footer: { events: '2' } }, /footer field 'events'/],
    ['footer events that disagree', { footer: { events: 3 } }, /footer says events 3, the chunks hold 2/],
    ['a footer peak that disagrees', { footer: { peakLiveBytes: 9 } }, /footer says peakLiveBytes 9/],
  ];
  it.each(cases)('%s is a clean input error', (_, o, msg) => {
    const p = trace(ev, o);
    let err: unknown;
    try {
      validateTrace(p);
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).toBe('AllocreplayError');
    expect((err as Error).message).toMatch(msg);
  });

  it('a chunk with a wrong index, too many events, or a stray key is refused', () => {
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const good = craftTrace(ev);
    // Re-pack the chunk with a changed field; the checksum is over the columns, so it still matches.
    const mutate = (f: (c: Record<string, unknown>) => void): string => {
      const items: unknown[] = [];
      new Packr({ useRecords: false, mapsAsObjects: true }).unpackMultiple(good, (v: unknown) => void items.push(v));
      const c = items[1] as Record<string, unknown>;
      f(c);
      const p = join(dir, `m${n++}.trace.msgpack`);
      writeFileSync(p, Buffer.concat(items.map((v) => packr.pack(v))));
      return p;
    };
    expect(() => validateTrace(mutate((c) => (c.chunk = 1)))).toThrow(/chunk 0 field 'chunk' must be its index 0, not 1/);
    expect(() => validateTrace(mutate((c) => (c.events = 70000)))).toThrow(/chunk 0 field 'events'/);
    expect(() => validateTrace(mutate((c) => (c.extra = 1)))).toThrow(/chunk 0 has key 'extra'/);
    expect(() => validateTrace(mutate((c) => (c.events = 3)))).toThrow(/column 'op' holds 2 values for 3 events/);
  });

  it('bytes after the footer, an extension type and deep nesting are clean errors', () => {
    const p = trace(ev);
    writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.from([0x01])]));
    expect(() => validateTrace(p)).toThrow(/data after the footer/);
    const q = join(dir, 'ext.trace.msgpack');
    writeFileSync(q, Buffer.from([0xd4, 0x01, 0x00]));
    expect(() => openTrace(q)).toThrow(/extension types/);
    const deep = join(dir, 'deep.trace.msgpack');
    writeFileSync(deep, Buffer.alloc(100_000, 0x91));
    expect(() => openTrace(deep)).toThrow(/nested more than/);
  });
});

describe('cut-short traces', () => {
  it('trace info on a long trace with no footer prints its warning and a bounded series, no stack overflow', () => {
    const p = join(dir, 'long.trace.msgpack');
    const evs: Stored[] = [];
    for (let i = 0; i < 300_000; i++) evs.push([M, 0, 0, 16, 0], [Op.free, 0, 1, 0, 0]);
    writeFileSync(p, craftTrace(evs, { noFooter: true }));
    const info = traceInfo(p);
    expect(info.events).toBe(600_000);
    expect(info.checksum).toBeUndefined();
    expect(info.warnings[0]).toMatch(/cut short/);
    expect(info.liveBytesSeries.length).toBeGreaterThanOrEqual(60);
    expect(info.liveBytesSeries.length).toBeLessThanOrEqual(120);
    const r = cli(['trace', 'info', p]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^allocreplay: warning: .*cut short/);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});

describe('thread ids reused after thread_exit', () => {
  it('an imported dump whose thread id comes back after thread_done gets a new thread index, and validates', async () => {
    const { importAosp } = await import('../../traces/index.js');
    const dump = join(dir, 'reuse.txt');
    writeFileSync(dump, ['100: malloc 0x10 8', '100: thread_done 0x0', '200: free 0x10', '100: malloc 0x20 16', '100: free 0x20', ''].join('\n'));
    const out = join(dir, 'reuse.trace.msgpack');
    await importAosp(dump, out, {});
    const r = validateTrace(out);
    expect(r.footer).toMatchObject({ events: 5, threads: 3 });
  });
});

describe('trace export', () => {
  it('an invalid trace leaves no output file, a valid one exports', async () => {
    const { existsSync, readdirSync } = await import('node:fs');
    const { exportAosp } = await import('../../traces/index.js');
    const bad = trace([[M, 0, 0, 8, 0], [Op.free, 0, 1, 0, 0], [M, 0, 0, 8, 0], [Op.free, 0, 2, 0, 0]]);
    const out = join(dir, 'bad.txt');
    expect(() => exportAosp(bad, out)).toThrow(/double free/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad.txt'))).toEqual([]);
    const good = trace([[M, 0, 0, 8, 0], [Op.free, 0, 1, 0, 0]]);
    expect(exportAosp(good, out)).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('1000: malloc 0x10000010 8\n1000: free 0x10000010\n');
  });
});

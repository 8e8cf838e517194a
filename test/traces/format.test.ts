import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Op, openTrace, readEvents, TraceWriter, validateTrace } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

function write(path: string, events: [number, number, number, number, number][], hasTime = false): void {
  const w = TraceWriter.open(path, { producer: { kind: 'generate', name: 'test' }, hasTime });
  events.forEach(([op, th, ob, sz, arg], i) => w.push(op, th, ob, sz, arg, i * 10));
  w.close();
}

describe('trace format v1', () => {
  it('round-trips every op, failed allocations, realloc and timestamps', () => {
    const p = join(tempDir(), 'x.trace.msgpack');
    const evs: [number, number, number, number, number][] = [
      [Op.malloc, 0, 1, 100, 0],
      [Op.calloc, 1, 2, 8, 16],
      [Op.memalign, 0, 3, 256, 64],
      [Op.posix_memalign, 2, 4, 64, 32],
      [Op.aligned_alloc, 0, 5, 128, 128],
      [Op.valloc, 0, 6, 10, 0],
      [Op.pvalloc, 0, 7, 10, 0],
      [Op.malloc, 0, 0, 2 ** 40, 0], // failed: no id consumed
      [Op.realloc, 1, 8, 300, 1], // ends 1, creates 8
      [Op.realloc, 0, 9, 50, 0], // realloc(NULL)
      [Op.free, 0, 0, 0, 0], // free(NULL)
      ...[2, 3, 4, 5, 6, 7, 8, 9].map((id): [number, number, number, number, number] => [Op.free, 1, id, 0, 0]),
      [Op.thread_exit, 2, 0, 0, 0],
    ];
    write(p, evs, true);
    const back = readEvents(p);
    expect(back.map((e) => [e.op, e.thread, e.object, e.size, e.arg])).toEqual(evs);
    expect(back.map((e) => e.time)).toEqual(evs.map((_, i) => i * 10));
    const r = validateTrace(p);
    expect(r.footer).toMatchObject({ events: evs.length, objects: 9, threads: 3, peakLiveObjects: 8 });
  });

  it('spans many chunks and keeps the checksum stable', () => {
    const p = join(tempDir(), 'big.trace.msgpack');
    const w = TraceWriter.open(p, { producer: { kind: 'generate', name: 'test' } });
    for (let i = 1; i <= 100_000; i++) {
      w.push(Op.malloc, 0, i, i % 1000, 0);
      w.push(Op.free, 0, i, 0, 0);
    }
    const f = w.close();
    const r = openTrace(p);
    let n = 0;
    let chunks = 0;
    for (const c of r.chunks()) {
      n += c.length;
      chunks++;
    }
    expect(n).toBe(200_000);
    expect(chunks).toBe(Math.ceil(200_000 / r.header.chunkEvents));
    expect(r.footer?.checksum).toBe(f.checksum);
  });

  it('refuses to write a double free, an unknown object, or a non-dense id', () => {
    const dir = tempDir();
    expect(() => write(join(dir, 'a'), [[Op.malloc, 0, 1, 8, 0], [Op.free, 0, 1, 0, 0], [Op.free, 0, 1, 0, 0]])).toThrow(/event 2: free of object 1, which is already dead/);
    expect(() => write(join(dir, 'b'), [[Op.free, 0, 5, 0, 0]])).toThrow(/out of range/);
    expect(() => write(join(dir, 'c'), [[Op.malloc, 0, 2, 8, 0]])).toThrow(/expected 1/);
  });

  it('reads a cut-short file up to its last whole chunk, with a warning', () => {
    const p = join(tempDir(), 'cut.trace.msgpack');
    const w = TraceWriter.open(p, { producer: { kind: 'generate', name: 'test' } });
    for (let i = 1; i <= 150_000; i++) w.push(Op.malloc, 0, i, 16, 0);
    w.close();
    const bytes = readFileSync(p);
    // Past the footer (about 150 bytes) and into the last, partial chunk.
    writeFileSync(p, bytes.subarray(0, bytes.length - 400));
    const r = openTrace(p);
    let n = 0;
    for (const c of r.chunks()) n += c.length;
    expect(n).toBe(2 * 65536); // the third, partial chunk is cut
    expect(r.footer).toBeUndefined();
    expect(r.warnings[0]).toMatch(/cut short/);
  });

  it('detects a flipped byte through the checksum or the decoder', () => {
    const p = join(tempDir(), 'flip.trace.msgpack');
    write(p, Array.from({ length: 500 }, (_, i): [number, number, number, number, number] => [Op.malloc, 0, i + 1, i, 0]));
    const b = readFileSync(p);
    const at = Math.floor(statSync(p).size / 2);
    b[at] = b[at]! ^ 0x20;
    writeFileSync(p, b);
    expect(() => validateTrace(p)).toThrow(/flip\.trace\.msgpack/);
  });
});

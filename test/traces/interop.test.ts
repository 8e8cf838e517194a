import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { decodeMulti } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { generate, readEvents } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

/**
 * A reader written from traces/FORMAT.md alone, on the reference msgpack
 * implementation (not msgpackr): proves the format is plain msgpack.
 */
function readByTheSpec(path: string): number[][] {
  const values = [...decodeMulti(readFileSync(path))] as Record<string, unknown>[];
  const header = values[0]!;
  expect(header.magic).toBe('allocreplay-trace');
  expect(header.version).toBe(1);
  const uvarints = (b: Uint8Array, n: number): number[] => {
    const out: number[] = [];
    let i = 0;
    while (out.length < n) {
      let v = 0;
      let mul = 1;
      for (;;) {
        const byte = b[i++]!;
        v += (byte & 0x7f) * mul;
        mul *= 128;
        if (byte < 0x80) break;
      }
      out.push(v);
    }
    return out;
  };
  const events: number[][] = [];
  let next = 1;
  for (const c of values.slice(1)) {
    if (c.footer === true) break;
    const n = c.events as number;
    const op = inflateSync(c.op as Uint8Array);
    const [th, ob, sz, ar] = (['thread', 'object', 'size', 'arg'] as const).map((k) => uvarints(inflateSync(c[k] as Uint8Array), n));
    for (let i = 0; i < n; i++) {
      const o = op[i]!;
      let object = 0;
      let arg = ar![i]!;
      if (o === 4) object = ob![i] === 0 ? 0 : next - ob![i]!;
      else if (o !== 10) {
        if (o === 3) arg = arg === 0 ? 0 : next - arg;
        object = ob![i] === 0 ? next++ : 0;
      }
      events.push([o, th![i]!, object, sz![i]!, arg]);
    }
  }
  return events;
}

describe('interoperability', () => {
  it('a reader built from FORMAT.md on @msgpack/msgpack gets the same events', () => {
    const dir = tempDir();
    for (const g of ['random-mixed', 'larson', 'realloc-grow']) {
      const p = join(dir, `${g}.trace.msgpack`);
      generate(g, { ops: 150_000 }, p);
      const ours = readEvents(p).map((e) => [e.op, e.thread, e.object, e.size, e.arg]);
      expect(readByTheSpec(p)).toEqual(ours);
    }
  });
});

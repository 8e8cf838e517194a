/**
 * Seeded, structure-aware mutations for the fuzz suite: dumps are mutated
 * line by line and token by token (numbers swapped for ones at and beyond
 * the format's limits, pointers widened, ops renamed, lines dropped or
 * repeated) as well as byte by byte; zips in their header fields.
 */
import { Prng } from '../../traces/index.js';

/** Numbers at and beyond every limit a parser has to respect. */
export const HOSTILE_NUMBERS = ['0', '1', '-1', '3', '24', String(2 ** 31), String(2 ** 32), String(2 ** 52), String(2 ** 53 - 1), String(2 ** 53), '18446744073709551616', '9'.repeat(400), '1e308', '0x10'];
const HOSTILE_TOKENS = [...HOSTILE_NUMBERS, `0x${'f'.repeat(300)}`, '0x', '(nil)', '0x0', '\0', '\r', '\t', ':', ' ', '', 'malloc', 'free', 'calloc', 'realloc', 'memalign', 'thread_done', '\n', '@', '+', '-', '<', '>', '='];
const AOSP_OPS = ['malloc', 'free', 'calloc', 'realloc', 'memalign', 'thread_done', 'mallocc', 'posix_memalign'];

export const pick = <T>(r: Prng, xs: readonly T[]): T => xs[r.below(xs.length)]!;

/** One mutation of a text dump (line-aware half the time, bytes otherwise). */
function mutateOnce(r: Prng, text: string): string {
  const lines = text.split('\n');
  const at = r.below(Math.max(1, lines.length));
  switch (r.below(10)) {
    case 0: // a number token replaced by a hostile one
    case 1: {
      const l = lines[at] ?? '';
      const nums = [...l.matchAll(/\d+/g)];
      if (nums.length) {
        const m = pick(r, nums);
        lines[at] = l.slice(0, m.index) + pick(r, HOSTILE_NUMBERS) + l.slice(m.index! + m[0].length);
      }
      return lines.join('\n');
    }
    case 2: {
      const l = lines[at] ?? '';
      lines[at] = l.replace(/0x[0-9a-f]+/, pick(r, ['0x0', '(nil)', `0x${'f'.repeat(r.range(14, 40))}`, `0x${'0'.repeat(20)}10`, '0x', '0xzz']));
      return lines.join('\n');
    }
    case 3: {
      const l = lines[at] ?? '';
      lines[at] = l.replace(/[a-z_]+/, pick(r, AOSP_OPS));
      return lines.join('\n');
    }
    case 4:
      lines.splice(at, 1);
      return lines.join('\n');
    case 5:
      lines.splice(at, 0, ...Array<string>(r.range(1, 300)).fill(lines[at] ?? ''));
      return lines.join('\n');
    case 6: {
      const b = r.below(Math.max(1, lines.length));
      [lines[at], lines[b]] = [lines[b] ?? '', lines[at] ?? ''];
      return lines.join('\n');
    }
    case 7: {
      const p = r.below(text.length + 1);
      return text.slice(0, p) + pick(r, HOSTILE_TOKENS) + text.slice(p);
    }
    case 8: {
      const p = r.below(Math.max(1, text.length));
      return text.slice(0, p) + String.fromCharCode(r.below(256)) + text.slice(p + 1);
    }
    default:
      return text.slice(0, r.below(text.length + 1));
  }
}

/** 1–4 mutations of a dump. */
export function mutateText(r: Prng, text: string): string {
  let t = text;
  for (let n = r.range(1, 4); n > 0; n--) t = mutateOnce(r, t);
  return t;
}

/** A zip with some of its bytes or header fields changed. */
export function mutateZip(r: Prng, zip: Buffer): Buffer {
  const z = Buffer.from(zip);
  const eocd = z.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const cd = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const u32 = (): number => pick(r, [0, 1, 100, 0xffffffff, 0x7fffffff, r.u32()]);
  for (let n = r.range(1, 3); n > 0; n--) {
    const what = r.below(8);
    if (what === 0 && z.length > 30) z.writeUInt32LE(u32(), pick(r, [14, 18, 22])); // local CRC, sizes
    else if (what === 1 && cd >= 0 && cd + 46 <= z.length) z.writeUInt32LE(u32(), cd + pick(r, [16, 20, 24, 42])); // central CRC, sizes, offset
    else if (what === 2 && cd >= 0 && cd + 46 <= z.length) z.writeUInt16LE(pick(r, [0, 1, 8, 9, 12, 99]), cd + 10); // method
    else if (what === 3 && eocd >= 0 && eocd + 22 <= z.length) z.writeUInt16LE(pick(r, [0, 1, 2, 0xffff]), eocd + pick(r, [8, 10])); // entry counts
    else if (what === 4 && eocd >= 0 && eocd + 22 <= z.length) z.writeUInt32LE(u32(), eocd + pick(r, [12, 16])); // directory size, offset
    else if (what === 5) return z.subarray(0, r.below(z.length + 1));
    else {
      const p = r.below(z.length);
      z[p] = r.below(256);
    }
  }
  return z;
}

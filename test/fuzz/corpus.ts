/**
 * The trace fuzzing corpus (traces.test.ts): structure-aware mutations of
 * generated traces, drawn from a seeded stream, so every suite that walks
 * the corpus (the reader's, the debug driver's) sees the same cases.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate, Op, type Prng, readEvents, type TraceEvent } from '../../traces/index.js';
import { type CraftOptions, type Stored, writeWithCounts } from '../traces/craft.js';

/** Stored form of semantic events (FORMAT.md, "Objects"): ids as distances from the next id. */
export function toStored(events: TraceEvent[]): Stored[] {
  let next = 1;
  return events.map((e) => {
    let s: Stored;
    if (e.op === Op.free) s = [e.op, e.thread, e.object === 0 ? 0 : next - e.object, e.size, 0];
    else if (e.op === Op.thread_exit) s = [e.op, e.thread, 0, 0, 0];
    else s = [e.op, e.thread, e.object === 0 ? 1 : 0, e.size, e.op === Op.realloc ? (e.arg === 0 ? 0 : next - e.arg) : e.arg];
    if (e.op !== Op.free && e.op !== Op.thread_exit && e.object !== 0) next++;
    return s;
  });
}

const SIZES = [0, 1, 7, 16, 4096, 65537, 2 ** 31, 2 ** 32 + 5, 2 ** 40, 2 ** 53 - 1, 2 ** 53, 2 ** 56 - 1];
const ALIGNS = [0, 1, 2, 3, 8, 16, 24, 4096, 2 ** 20, 2 ** 40];

export interface Case {
  events: Stored[];
  opts: CraftOptions;
  /** Bytes to cut from the end, or a byte to flip, after writing. */
  cut?: number;
  flip?: number;
}

/** One to three mutations of a base trace, drawn from the seeded stream. */
export function mutate(base: Stored[], rng: Prng): Case {
  const events = base.map((e) => [...e] as Stored);
  const c: Case = { events, opts: {} };
  const pick = (): number => rng.below(events.length);
  const rounds = 1 + rng.below(3);
  for (let r = 0; r < rounds && events.length > 0; r++) {
    const e = events[pick()]!;
    switch (rng.below(16)) {
      case 0: e[0] = rng.below(13); break;
      case 1: e[1] = rng.chance(0.9) ? rng.below(6) : [255, 65535, 65536, 2 ** 20][rng.below(4)]!; break;
      case 2: e[2] = rng.chance(0.5) ? rng.below(4) : rng.below(events.length + 4); break;
      case 3: e[3] = SIZES[rng.below(SIZES.length)]!; break;
      case 4: e[4] = rng.chance(0.5) ? ALIGNS[rng.below(ALIGNS.length)]! : rng.below(events.length + 4); break;
      case 5: events.splice(pick(), 1); break;
      case 6: { const i = pick(); events.splice(i, 0, [...events[i]!] as Stored); break; }
      case 7: { const i = pick(), j = pick(); [events[i], events[j]] = [events[j]!, events[i]!]; break; }
      case 8: events.splice(pick(), 0, [Op.thread_exit, rng.below(4), 0, 0, 0]); break;
      case 9: c.opts.chunkEvents = [7, 61, 100, 256][rng.below(4)]; break;
      case 10: c.opts.header = { ...c.opts.header, ...[{ chunkEvents: [-1, 0, 65537, 2 ** 32, '64', 1.5][rng.below(6)] }, { hasTime: rng.chance(0.5) ? 1 : true }, { version: [0, 2, '1'][rng.below(3)] }, { compression: 'zstd' }, { producer: [null, 'x', { kind: 'other', name: 'n' }, { kind: 'record', name: 7 }][rng.below(4)] }, { threadNames: [1] }][rng.below(6)] }; break;
      case 11: c.opts.footer = { ...c.opts.footer, ...[{ events: events.length + 1 }, { peakLiveBytes: -1 }, { checksum: [12345, 'abc', null][rng.below(3)] }, { objects: 2 ** 60 }, { threads: '1' }][rng.below(5)] }; break;
      case 12: c.opts.noFooter = true; break;
      case 13: c.cut = 1 + rng.below(64); break;
      case 14: c.flip = rng.below(1 << 30); break;
      default: e[2] = 0; e[0] = Op.free; break;
    }
  }
  if (rng.chance(0.15)) c.opts.hasTime = true;
  return c;
}

/** The seed of the mutation stream. */
export const CORPUS_SEED = 20261129;

/** The generated traces the mutations start from (written into `dir`), as stored events. */
export function corpusBases(dir: string): Stored[][] {
  const gens: [string, Record<string, number>][] = [
    ['random-mixed', { slots: 16, ops: 600, seed: 1 }],
    ['tiny-hot', { ops: 400, batch: 3 }],
    ['larson', { threads: 3, ops: 600, seed: 3 }],
    ['producer-consumer', { ops: 500, seed: 4 }],
    ['realloc-grow', { ops: 400 }],
  ];
  return gens.map(([name, params]) => {
    const p = join(dir, `${name}.trace.msgpack`);
    generate(name, params, p);
    return toStored(readEvents(p));
  });
}

/** Writes a case's trace to `path`: its events with their counts, then its cut or flipped byte. */
export function writeCase(path: string, c: Case): void {
  writeWithCounts(path, c.events, c.opts);
  if (c.cut || c.flip !== undefined) {
    const bytes = readFileSync(path);
    if (c.flip !== undefined) bytes[c.flip % bytes.length] ^= 1 << (c.flip % 8);
    writeFileSync(path, c.cut ? bytes.subarray(0, Math.max(0, bytes.length - c.cut)) : bytes);
  }
}

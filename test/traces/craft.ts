/**
 * Builds trace files byte by byte from *encoded* columns (the values as
 * stored: distances, success flags), so tests and the fuzz suite can write
 * what no TraceWriter would — and recompute the checksum so a reader's
 * deeper checks are reached. Follows traces/FORMAT.md, not the writer.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import { ByteSink } from '../../traces/format/columns.js';
import { CHUNK_EVENTS, COLUMN_DTYPES, FORMAT_VERSION, MAGIC, openTrace } from '../../traces/index.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });

/** One event as stored: [op, thread, object column, size, arg column, time delta]. */
export type Stored = [number, number, number, number, number, number?];

export interface CraftOptions {
  hasTime?: boolean;
  chunkEvents?: number;
  /** Replaces or adds header fields. */
  header?: Record<string, unknown>;
  /** Replaces or adds footer fields (after the computed ones). */
  footer?: Record<string, unknown>;
  /** Leave the footer out. */
  noFooter?: boolean;
}

export function defaultHeader(hasTime: boolean, chunkEvents: number): Record<string, unknown> {
  return {
    magic: MAGIC,
    version: FORMAT_VERSION,
    producer: { kind: 'generate', name: 'craft' },
    created: null,
    host: null,
    threadNames: [],
    hasTime,
    chunkEvents,
    compression: 'zlib',
    columns: hasTime ? COLUMN_DTYPES : { ...COLUMN_DTYPES, time: 'absent' },
  };
}

/** Column bytes of some stored events (uncompressed). */
export function encodeColumns(events: Stored[], hasTime: boolean): Record<string, Uint8Array> {
  const s = { op: new ByteSink(), thread: new ByteSink(), object: new ByteSink(), size: new ByteSink(), arg: new ByteSink(), time: new ByteSink() };
  for (const [op, th, ob, sz, ar, tm] of events) {
    s.op.u8(op & 0xff);
    s.thread.uvarint(th);
    s.object.uvarint(ob);
    s.size.uvarint(sz);
    s.arg.uvarint(ar);
    if (hasTime) s.time.svarint(tm ?? 0);
  }
  const names = hasTime ? (['op', 'thread', 'object', 'size', 'arg', 'time'] as const) : (['op', 'thread', 'object', 'size', 'arg'] as const);
  return Object.fromEntries(names.map((n) => [n, s[n].bytes().slice()]));
}

/**
 * The bytes of a trace holding `events`, split into chunks of chunkEvents,
 * with a footer whose checksum matches the chunks (counts are 0 unless given:
 * pass them in `footer`, or use `footerFor`).
 */
export function craftTrace(events: Stored[], o: CraftOptions = {}): Buffer {
  const hasTime = o.hasTime ?? false;
  const chunkEvents = o.chunkEvents ?? CHUNK_EVENTS;
  const parts: Uint8Array[] = [packr.pack({ ...defaultHeader(hasTime, chunkEvents), ...o.header })];
  const hash = createHash('sha256');
  for (let at = 0, ci = 0; at < events.length; at += chunkEvents, ci++) {
    const cols = encodeColumns(events.slice(at, at + chunkEvents), hasTime);
    const chunk: Record<string, unknown> = { chunk: ci, events: Math.min(chunkEvents, events.length - at) };
    for (const [name, raw] of Object.entries(cols)) {
      const z = deflateSync(raw);
      hash.update(z);
      chunk[name] = z;
    }
    parts.push(packr.pack(chunk));
  }
  if (!o.noFooter) {
    parts.push(packr.pack({ footer: true, events: events.length, objects: 0, threads: 0, peakLiveObjects: 0, peakLiveBytes: 0, checksum: hash.digest('hex'), ...o.footer }));
  }
  return Buffer.concat(parts);
}

export function writeCrafted(path: string, events: Stored[], o: CraftOptions = {}): void {
  writeFileSync(path, craftTrace(events, o));
}

/**
 * Writes a crafted trace whose footer counts are the ones the reader computes
 * from its events (so only a broken rule, never a stale count, can make it
 * invalid); when the events break a rule the counts stay 0 and the reader's
 * error is returned.
 */
export function writeWithCounts(path: string, events: Stored[], o: CraftOptions = {}): Error | undefined {
  writeCrafted(path, events, { ...o, noFooter: true });
  try {
    const r = openTrace(path);
    for (const _ of r.chunks()) void _;
    const l = r.live;
    writeCrafted(path, events, { ...o, footer: { events: l.events, objects: l.nextId - 1, threads: l.threads, peakLiveObjects: l.peakLiveObjects, peakLiveBytes: l.peakLiveBytes, ...o.footer } });
    return undefined;
  } catch (e) {
    writeCrafted(path, events, o);
    return e as Error;
  }
}

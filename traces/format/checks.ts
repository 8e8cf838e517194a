/**
 * Shape checks of the header, chunk and footer maps of format v1: every
 * field's type and range as traces/FORMAT.md states it, each failure a
 * one-line input error naming the file and the field.
 */
import { inputError } from '../platform/errors.js';
import { checkProgram, type ProgramIdentity } from '../program/program.js';
import {
  CHUNK_EVENTS,
  COLUMN_DTYPES,
  FORMAT_VERSION,
  MAGIC,
  MAX_VALUE,
  type TraceFooter,
  type TraceHeader,
  type TraceProducer,
} from './spec.js';

type Raw = Record<string, unknown>;
const CORRUPT = 'the file is corrupt; record or generate it again';

export function isMap(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && Object.getPrototypeOf(v) === Object.prototype;
}

function isCount(v: unknown, max = MAX_VALUE): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
}

function describe(v: unknown): string {
  if (v === null) return 'nil';
  if (v instanceof Uint8Array) return 'bin';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'map';
  return String(v);
}

function bad(path: string, where: string, field: string, want: string, got: unknown): never {
  throw inputError(`${path}: ${where} field '${field}' must be ${want}, not ${describe(got)}`, CORRUPT);
}

function checkProducer(path: string, p: unknown): TraceProducer {
  if (!isMap(p)) bad(path, 'header', 'producer', 'a map', p);
  if (p.kind !== 'generate' && p.kind !== 'record' && p.kind !== 'import') bad(path, 'header', 'producer.kind', '"generate", "record" or "import"', p.kind);
  if (typeof p.name !== 'string') bad(path, 'header', 'producer.name', 'a string', p.name);
  if (p.params !== undefined) {
    if (!isMap(p.params)) bad(path, 'header', 'producer.params', 'a map', p.params);
    for (const [k, v] of Object.entries(p.params)) {
      if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) bad(path, 'header', `producer.params.${k}`, 'a string, number or bool', v);
    }
  }
  if (p.command !== undefined && !(Array.isArray(p.command) && p.command.every((s) => typeof s === 'string'))) bad(path, 'header', 'producer.command', 'an array of strings', p.command);
  if (p.seed !== undefined && !(typeof p.seed === 'number' && Number.isSafeInteger(p.seed))) bad(path, 'header', 'producer.seed', 'an integer', p.seed);
  return p as unknown as TraceProducer;
}

/** The header map, checked field by field. */
export function checkHeader(path: string, h: unknown): TraceHeader {
  if (!isMap(h) || h.magic !== MAGIC) {
    throw inputError(`${path}: not an allocreplay trace (no '${MAGIC}' header)`, 'pass a .trace.msgpack file written by allocreplay');
  }
  if (h.version !== FORMAT_VERSION) {
    throw inputError(`${path}: trace format version ${describe(h.version)} is not supported (this allocreplay reads v${FORMAT_VERSION})`, 'upgrade allocreplay');
  }
  const producer = checkProducer(path, h.producer);
  if (h.created !== null && typeof h.created !== 'string') bad(path, 'header', 'created', 'a string or nil', h.created);
  if (h.host !== null && typeof h.host !== 'string') bad(path, 'header', 'host', 'a string or nil', h.host);
  if (!Array.isArray(h.threadNames) || !h.threadNames.every((s) => typeof s === 'string')) bad(path, 'header', 'threadNames', 'an array of strings', h.threadNames);
  if (typeof h.hasTime !== 'boolean') bad(path, 'header', 'hasTime', 'a bool', h.hasTime);
  if (!isCount(h.chunkEvents, CHUNK_EVENTS) || h.chunkEvents < 1) bad(path, 'header', 'chunkEvents', `an integer in 1 … ${CHUNK_EVENTS}`, h.chunkEvents);
  if (h.compression !== 'zlib') bad(path, 'header', 'compression', '"zlib"', h.compression);
  if (!isMap(h.columns)) bad(path, 'header', 'columns', 'a map', h.columns);
  for (const [name, dtype] of Object.entries(COLUMN_DTYPES)) {
    const want = name === 'time' && !h.hasTime ? 'absent' : dtype;
    if (h.columns[name] !== want) bad(path, 'header', `columns.${name}`, `"${want}"`, h.columns[name]);
  }
  for (const name of Object.keys(h.columns)) {
    if (!(name in COLUMN_DTYPES)) bad(path, 'header', `columns.${name}`, 'absent (v1 has no such column)', h.columns[name]);
  }
  let program: ProgramIdentity | undefined;
  if (h.program !== undefined) {
    const p = checkProgram(h.program);
    if (typeof p === 'string') bad(path, 'header', p, p === 'program' ? 'a map' : 'as FORMAT.md describes it', p === 'program' ? h.program : (h.program as Raw)[p.slice(8)]);
    program = p;
  }
  return { ...(h as unknown as TraceHeader), producer, ...(program ? { program } : {}) };
}

/** A chunk map: its index, event count and one bin per column, nothing else. */
export function checkChunkKeys(path: string, c: unknown, index: number, header: TraceHeader, names: readonly string[]): Raw {
  const where = `chunk ${index}`;
  if (!isMap(c)) throw inputError(`${path}: ${where} is a ${describe(c)}, not a chunk map`, CORRUPT);
  if (c.chunk !== index) bad(path, where, 'chunk', `its index ${index}`, c.chunk);
  if (!isCount(c.events, header.chunkEvents) || c.events < 1) bad(path, where, 'events', `an integer in 1 … ${header.chunkEvents} (the header's chunkEvents)`, c.events);
  for (const name of names) if (!(c[name] instanceof Uint8Array)) bad(path, where, name, 'a bin', c[name]);
  const allowed = new Set(['chunk', 'events', ...names]);
  for (const k of Object.keys(c)) if (!allowed.has(k)) throw inputError(`${path}: ${where} has key '${k.slice(0, 40)}', which format v1 does not define${k === 'time' ? ' (the header says the trace has no time column)' : ''}`, CORRUPT);
  return c;
}

/** The footer map: every count a non-negative integer, the checksum 64 lowercase hex digits. */
export function checkFooter(path: string, f: Raw): TraceFooter {
  if (f.footer !== true) bad(path, 'footer', 'footer', 'true', f.footer);
  for (const k of ['events', 'objects', 'threads', 'peakLiveObjects', 'peakLiveBytes'] as const) {
    if (!isCount(f[k])) bad(path, 'footer', k, 'an integer in 0 … 2^53 − 1', f[k]);
  }
  if (typeof f.checksum !== 'string' || !/^[0-9a-f]{64}$/.test(f.checksum)) bad(path, 'footer', 'checksum', '64 lowercase hex digits', f.checksum);
  const { events, objects, threads, peakLiveObjects, peakLiveBytes, checksum } = f as unknown as TraceFooter;
  return { events, objects, threads, peakLiveObjects, peakLiveBytes, checksum };
}

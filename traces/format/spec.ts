/** Constants of trace format v1; traces/FORMAT.md is the normative text. */
import type { ProgramIdentity } from '../program/program.js';

export const MAGIC = 'allocreplay-trace';
export const FORMAT_VERSION = 1;
/** Events per chunk at most: bounds the memory a reader or writer holds. */
export const CHUNK_EVENTS = 65536;
/** Largest integer a trace may hold (sizes, args, counts): 2^53 − 1. */
export const MAX_VALUE = Number.MAX_SAFE_INTEGER;
/** Object ids fit in 32 bits: a trace makes at most 2^32 − 1 objects. */
export const MAX_OBJECT_ID = 2 ** 32 - 1;
/** Thread indices fit in 16 bits: at most 65536 threads. */
export const MAX_THREADS = 65536;
/** No single MessagePack value of a trace (header, chunk, footer) is larger. */
export const MAX_VALUE_BYTES = 64 * 2 ** 20;
/** Arrays and maps nest at most this deep (the header's params are the deepest, at 3). */
export const MAX_NESTING = 16;
/** Column order, as hashed by the checksum. */
export const COLUMNS = ['op', 'thread', 'object', 'size', 'arg', 'time'] as const;
export type ColumnName = (typeof COLUMNS)[number];
export const COLUMN_DTYPES: Record<ColumnName, string> = {
  op: 'u8',
  thread: 'uvarint',
  object: 'uvarint',
  size: 'uvarint',
  arg: 'uvarint',
  time: 'svarint',
};

/** Who made a trace, kept in its header. */
export interface TraceProducer {
  kind: 'generate' | 'record' | 'import';
  /** Generator name, `record`, or the import format (`aosp`, `mtrace`). */
  name: string;
  params?: Record<string, string | number | boolean>;
  command?: string[];
  seed?: number;
}

export interface TraceHeaderInit {
  producer: TraceProducer;
  hasTime?: boolean;
  /** ISO time; null (the default) keeps the file reproducible. */
  created?: string | null;
  host?: string | null;
  /** Names of the recorded threads, by dense index, when known. */
  threadNames?: string[];
  /** The program a recording ran (record only): what `live --from` runs again. */
  program?: ProgramIdentity;
}

export interface TraceHeader {
  magic: typeof MAGIC;
  version: number;
  producer: TraceProducer;
  created: string | null;
  host: string | null;
  threadNames: string[];
  hasTime: boolean;
  chunkEvents: number;
  compression: 'zlib';
  columns: Record<string, string>;
  /** The program a recording ran, when the producer stored it. */
  program?: ProgramIdentity;
}

export interface TraceFooter {
  events: number;
  objects: number;
  threads: number;
  peakLiveObjects: number;
  peakLiveBytes: number;
  /** sha256 (hex) over every chunk's compressed columns, in order. */
  checksum: string;
}

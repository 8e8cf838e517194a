import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, inputError, isAlloc, Op, openTrace } from '../../traces/index.js';

/** Bumped whenever the plan layout changes (engine/native/plan.h). */
export const PLAN_VERSION = 1;
const HEADER = 64;
const OP = 24;
/** Points of the live-bytes-vs-RSS series the driver samples. */
export const SERIES_SAMPLES = 100;

/** A plan on disk, ready for the driver. */
export interface Plan {
  planPath: string;
  checksum: string;
  /** Ops in the plan (failed allocations of the recording are left out). */
  ops: number;
  threads: number;
  /** Live bytes after the ops at which the driver samples RSS. */
  liveBytesAt: number[];
  /** The driver samples after every `sampleEvery`-th op (serial mode). */
  sampleEvery: number;
}

interface PlanMeta {
  ops: number;
  threads: number;
  liveBytesAt: number[];
  sampleEvery: number;
}

/**
 * The replay plan of a trace, built on first use and cached by the trace's
 * checksum and PLAN_VERSION.
 */
export function planFor(tracePath: string): Plan {
  const reader = openTrace(tracePath);
  if (!reader.footer) throw inputError(`${tracePath}: trace is cut short (no footer)`, 'replay needs a whole trace; record or generate it again');
  const { checksum } = reader.footer;
  const planPath = join(cacheDir('plans'), `${checksum.slice(0, 32)}-v${PLAN_VERSION}.plan`);
  const metaPath = `${planPath}.json`;
  if (existsSync(planPath) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as PlanMeta;
    return { planPath, checksum, ...meta };
  }
  const { threads } = reader.footer;
  if (threads > 65535) throw inputError(`${tracePath}: ${threads} threads is more than a plan holds (65535)`, 'split the trace');
  const cap = reader.footer.events;
  const buf = Buffer.alloc(HEADER + cap * OP + cap * 4 + (threads + 1) * 8);
  const sizes = new Float64Array(reader.footer.objects + 1);
  const perThread = new Uint32Array(threads);
  let n = 0;
  let live = 0;
  const liveAfter = new Float64Array(cap);
  for (const c of reader.chunks()) {
    for (let i = 0; i < c.length; i++) {
      const op = c.op[i]!;
      const obj = c.object[i]!;
      const size = c.size[i]!;
      const arg = c.arg[i]!;
      // A failed allocation made nothing; replaying it would only measure a
      // failure path the allocator under test may not share. Same for a
      // failed realloc (NULL for a non-zero size: the old block lives on).
      if (isAlloc(op) && obj === 0 && !(op === Op.realloc && size === 0)) continue;
      const at = HEADER + n * OP;
      buf.writeUInt8(op, at);
      buf.writeUInt16LE(c.thread[i]!, at + 2);
      buf.writeUInt32LE(obj, at + 4);
      buf.writeBigUInt64LE(BigInt(size), at + 8);
      buf.writeBigUInt64LE(BigInt(arg), at + 16);
      perThread[c.thread[i]!]!++;
      if (op === Op.free) {
        live -= sizes[obj]!;
      } else if (op !== Op.thread_exit) {
        if (op === Op.realloc && arg) live -= sizes[arg]!;
        const bytes = op === Op.calloc ? size * arg : size;
        if (obj) {
          sizes[obj] = bytes;
          live += bytes;
        }
      }
      liveAfter[n] = live;
      n++;
    }
  }
  // Per-thread op lists, each in global order.
  const start = new Float64Array(threads + 1);
  for (let t = 0; t < threads; t++) start[t + 1] = start[t]! + perThread[t]!;
  const fill = Float64Array.from(start);
  const listAt = HEADER + n * OP;
  for (let i = 0; i < n; i++) {
    const t = buf.readUInt16LE(HEADER + i * OP + 2);
    buf.writeUInt32LE(i, listAt + fill[t]! * 4);
    fill[t]!++;
  }
  const startAt = listAt + n * 4;
  for (let t = 0; t <= threads; t++) buf.writeBigUInt64LE(BigInt(start[t]!), startAt + t * 8);
  const total = startAt + (threads + 1) * 8;
  buf.write('ARPLAN01', 0, 'latin1');
  buf.writeUInt32LE(PLAN_VERSION, 8);
  buf.writeUInt32LE(Math.max(1, threads), 12);
  buf.writeBigUInt64LE(BigInt(n), 16);
  buf.writeBigUInt64LE(BigInt(reader.footer.objects + 1), 24);
  buf.writeBigUInt64LE(BigInt(total), 32);
  // The driver is given this spacing (--sample-every) and samples after ops every, 2·every, …
  const sampleEvery = Math.floor(n / SERIES_SAMPLES) + 1;
  const liveBytesAt: number[] = [];
  for (let i = sampleEvery; i < n && liveBytesAt.length < SERIES_SAMPLES; i += sampleEvery) liveBytesAt.push(liveAfter[i]!);
  const meta: PlanMeta = { ops: n, threads, liveBytesAt, sampleEvery };
  const tmp = `${planPath}.tmp${process.pid}`;
  writeFileSync(tmp, buf.subarray(0, total));
  renameSync(tmp, planPath);
  writeFileSync(metaPath, JSON.stringify(meta));
  return { planPath, checksum, ...meta };
}

import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, inputError, isAlloc, Op, openTrace, type TraceFooter } from '../../traces/index.js';
import { evictPlans, touchPlan } from './cache.js';
import { PLAN_LAYOUT } from './layout.js';

/** Bumped whenever the plan layout or the planner's output changes (engine/native/plan.h). */
export const PLAN_VERSION = PLAN_LAYOUT.version;
/** Points of the live-bytes-vs-RSS series; passed to the driver as `--samples`. */
export const SERIES_SAMPLES = 100;

const { header: H, op: O } = PLAN_LAYOUT;
const WORDS = O.bytes / 4;

/** A plan on disk, ready for the driver. */
export interface Plan {
  planPath: string;
  /** The trace's checksum, computed from its content as it was read. */
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
  /** The validated footer of the trace the plan was made from. */
  footer: TraceFooter;
}

/** A cache entry's metadata, or undefined when it is missing or damaged (then the plan is made again). */
function readMeta(path: string): PlanMeta | undefined {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Partial<PlanMeta>;
    const ok =
      typeof m.ops === 'number' &&
      typeof m.threads === 'number' &&
      typeof m.sampleEvery === 'number' &&
      Array.isArray(m.liveBytesAt) &&
      m.liveBytesAt.every((v) => typeof v === 'number') &&
      typeof m.footer === 'object' &&
      m.footer !== null;
    return ok ? (m as PlanMeta) : undefined;
  } catch {
    return undefined;
  }
}

function sameFooter(a: TraceFooter, b: TraceFooter): boolean {
  return (
    a.events === b.events &&
    a.objects === b.objects &&
    a.threads === b.threads &&
    a.peakLiveObjects === b.peakLiveObjects &&
    a.peakLiveBytes === b.peakLiveBytes &&
    a.checksum === b.checksum
  );
}

/**
 * The replay plan of a trace. The trace is read once to compute its checksum
 * from the content (never trusting the footer's claim); a cached plan for
 * that checksum and PLAN_VERSION is reused, else the trace is read again,
 * validated event by event, and planned. A trace that fails validation is
 * never planned. The plan cache is capped (ALLOCREPLAY_CACHE_MAX), least
 * recently used first out.
 */
export function planFor(tracePath: string): Plan {
  const head = openTrace(tracePath);
  head.scan();
  if (!head.footer) throw inputError(`${tracePath}: trace is cut short (no footer)`, 'replay needs a whole trace; record or generate it again');
  const checksum = head.checksum!;
  const planPath = join(cacheDir('plans'), `${checksum}-v${PLAN_VERSION}.plan`);
  const metaPath = `${planPath}.json`;
  if (existsSync(planPath)) {
    const meta = readMeta(metaPath);
    // Same chunks, same footer: the same trace this plan was made (and validated) from.
    if (meta && sameFooter(meta.footer, head.footer)) {
      touchPlan(planPath);
      return { planPath, checksum, ops: meta.ops, threads: meta.threads, liveBytesAt: meta.liveBytesAt, sampleEvery: meta.sampleEvery };
    }
  }
  const meta = buildPlan(tracePath, planPath, checksum);
  writeFileSync(`${metaPath}.tmp${process.pid}`, JSON.stringify(meta));
  renameSync(`${metaPath}.tmp${process.pid}`, metaPath);
  evictPlans(planPath);
  return { planPath, checksum, ops: meta.ops, threads: meta.threads, liveBytesAt: meta.liveBytesAt, sampleEvery: meta.sampleEvery };
}

/**
 * Streams the trace into the plan file: ops are written a chunk at a time,
 * the header last. Memory: one chunk and the live set. The live bytes after
 * each op go to a scratch file so the series can be read at the driver's
 * sample points once the op count is known.
 */
function buildPlan(tracePath: string, planPath: string, checksum: string): PlanMeta {
  const reader = openTrace(tracePath);
  const tmp = `${planPath}.tmp${process.pid}`;
  const liveTmp = `${planPath}.live${process.pid}`;
  const fd = openSync(tmp, 'w');
  const liveFd = openSync(liveTmp, 'w+');
  try {
    writeSync(fd, new Uint8Array(H.bytes), 0, H.bytes, 0);
    const cap = reader.header.chunkEvents;
    const words = new Uint32Array(cap * WORDS);
    const bytes = new Uint8Array(words.buffer);
    const live = new Float64Array(cap);
    let n = 0;
    let at = H.bytes;
    for (const c of reader.chunks()) {
      const { op, thread, object, size, arg } = c;
      const after = reader.liveAfter;
      let k = 0;
      for (let i = 0; i < c.length; i++) {
        const o = op[i]!;
        const obj = object[i]!;
        const sz = size[i]!;
        // A failed allocation made nothing; replaying it would only measure a
        // failure path the allocator under test may not share. Same for a
        // failed realloc (NULL for a non-zero size: the old block lives on).
        if (obj === 0 && isAlloc(o) && !(o === Op.realloc && sz === 0)) continue;
        const a = arg[i]!;
        const w = k * WORDS;
        words[w] = o | (thread[i]! << 16);
        words[w + 1] = obj;
        words[w + 2] = sz >>> 0;
        words[w + 3] = Math.floor(sz / 4294967296);
        words[w + 4] = a >>> 0;
        words[w + 5] = Math.floor(a / 4294967296);
        live[k] = after[i]!;
        k++;
      }
      at += writeSync(fd, bytes, 0, k * O.bytes, at);
      writeSync(liveFd, new Uint8Array(live.buffer, 0, k * 8));
      n += k;
    }
    if (!reader.footer) throw inputError(`${tracePath}: trace is cut short (no footer)`, 'replay needs a whole trace; record or generate it again');
    if (reader.checksum !== checksum) throw inputError(`${tracePath}: the trace changed while it was being planned`, 'replay it again once it is written');
    const threads = Math.max(1, reader.live.threads);
    const header = Buffer.alloc(H.bytes);
    header.write(PLAN_LAYOUT.magic, 0, 'latin1');
    header.writeUInt32LE(PLAN_LAYOUT.version, H.version);
    header.writeUInt32LE(threads, H.threads);
    header.writeBigUInt64LE(BigInt(n), H.nops);
    header.writeBigUInt64LE(BigInt(reader.live.nextId), H.nobjects);
    header.writeBigUInt64LE(BigInt(at), H.fileBytes);
    writeSync(fd, header, 0, H.bytes, 0);
    closeSync(fd);
    // Mirrors the driver: samples after ops every, 2·every, … (engine/native/replay.c).
    const sampleEvery = Math.floor(n / SERIES_SAMPLES) + 1;
    const liveBytesAt: number[] = [];
    const one = new Float64Array(1);
    for (let i = sampleEvery; i < n && liveBytesAt.length < SERIES_SAMPLES; i += sampleEvery) {
      readSync(liveFd, new Uint8Array(one.buffer), 0, 8, i * 8);
      liveBytesAt.push(one[0]!);
    }
    renameSync(tmp, planPath);
    return { ops: n, threads: reader.live.threads, liveBytesAt, sampleEvery, footer: reader.footer };
  } finally {
    try {
      closeSync(fd);
    } catch {
      // already closed on success
    }
    closeSync(liveFd);
    rmSync(liveTmp, { force: true });
    rmSync(tmp, { force: true });
  }
}

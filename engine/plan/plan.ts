import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, claimedFooter, inputError, isAlloc, Op, openTrace, type TraceFooter } from '../../traces/index.js';
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
 * The replay plan of a trace, cached by the checksum computed from the
 * trace's content (never the footer's claim) and PLAN_VERSION. A cached plan
 * is reused once the content hashes to its key and the footer matches the
 * one validated when it was made; else the trace is read, validated event by
 * event, and planned in one pass. A trace that fails validation is
 * never planned. The plan cache is capped (ALLOCREPLAY_CACHE_MAX), least
 * recently used first out.
 */
export function planFor(tracePath: string): Plan {
  const dir = cacheDir('plans');
  const pathOf = (checksum: string): string => join(dir, `${checksum}-v${PLAN_VERSION}.plan`);
  // Only a hint: when no plan exists under the checksum the footer claims, the trace is planned
  // straight away (one read); when one does, the content is hashed to see whether it really matches.
  const claim = claimedFooter(tracePath);
  if (claim && existsSync(pathOf(claim.checksum))) {
    const head = openTrace(tracePath);
    head.scan();
    if (!head.footer) throw inputError(`${tracePath}: trace is cut short (no footer)`, 'replay needs a whole trace; record or generate it again');
    const planPath = pathOf(head.checksum!);
    const meta = readMeta(`${planPath}.json`);
    // Same chunks, same footer: the same trace this plan was made (and validated) from.
    if (existsSync(planPath) && meta && sameFooter(meta.footer, head.footer)) {
      touchPlan(planPath);
      return { planPath, checksum: head.checksum!, ops: meta.ops, threads: meta.threads, liveBytesAt: meta.liveBytesAt, sampleEvery: meta.sampleEvery };
    }
  }
  const { meta, checksum } = buildPlan(tracePath, pathOf);
  const planPath = pathOf(checksum);
  const metaPath = `${planPath}.json`;
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
function buildPlan(tracePath: string, pathOf: (checksum: string) => string): { meta: PlanMeta; checksum: string } {
  const reader = openTrace(tracePath);
  // Named once the checksum is known (after the last chunk); scratch names until then.
  const scratch = join(cacheDir('plans'), `new-${process.pid}-${Date.now()}`);
  const tmp = `${scratch}.tmp${process.pid}`;
  const liveTmp = `${scratch}.live${process.pid}`;
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
    const checksum = reader.checksum!;
    renameSync(tmp, pathOf(checksum));
    return { meta: { ops: n, threads: reader.live.threads, liveBytesAt, sampleEvery, footer: reader.footer }, checksum };
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

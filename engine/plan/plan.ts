import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, claimedFooter, inputError, isAlloc, Op, openTrace, type TraceFooter } from '../../traces/index.js';
import { evictPlans, touchPlan } from './cache.js';
import { PLAN_LAYOUT } from './layout.js';

/** Bumped whenever the plan layout or the planner's output changes (engine/native/plan.h). */
export const PLAN_VERSION = PLAN_LAYOUT.version;
/** Points of the live-bytes-vs-RSS series; passed to the driver as `--samples`. */
export const SERIES_SAMPLES = 100;

const { header: H, rec: R, gap: G } = PLAN_LAYOUT;
const R_WORDS = R.bytes / 4;

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
  // Most traces have no failed allocations: then the op count is the footer's event count, known
  // before reading, and the series' sample points too. Else a second pass keeps every op's live bytes.
  const { meta, checksum } = buildPlan(tracePath, pathOf, claim?.events) ?? buildPlan(tracePath, pathOf, undefined)!;
  const planPath = pathOf(checksum);
  const metaPath = `${planPath}.json`;
  writeFileSync(`${metaPath}.tmp${process.pid}`, JSON.stringify(meta));
  renameSync(`${metaPath}.tmp${process.pid}`, metaPath);
  evictPlans(planPath);
  return { planPath, checksum, ops: meta.ops, threads: meta.threads, liveBytesAt: meta.liveBytesAt, sampleEvery: meta.sampleEvery };
}

/** Writes all of `b` at `at`; returns the bytes written. */
function writeAll(fd: number, b: Uint8Array, len: number, at: number): number {
  let done = 0;
  while (done < len) done += writeSync(fd, b, done, len - done, at + done);
  return len;
}

/**
 * Streams the trace into the plan file: 12-byte records a chunk at a time,
 * values too wide for a record (sizes ≥ 2^32, calloc's nmemb, realloc's old
 * id) to a scratch file appended after the records, the recorded ns before
 * each op (traces with time) to another appended after those, the header
 * last. Memory: one
 * chunk and the live set. With `expectOps` (the op count, when no event is
 * left out), the live bytes are kept at the driver's sample points only, and
 * undefined is returned if the count turns out different; without it, the
 * live bytes after every op go to a scratch file read once the count is known.
 */
function buildPlan(tracePath: string, pathOf: (checksum: string) => string, expectOps: number | undefined): { meta: PlanMeta; checksum: string } | undefined {
  const reader = openTrace(tracePath);
  // Named once the checksum is known (after the last chunk); scratch names until then.
  const scratch = join(cacheDir('plans'), `new-${process.pid}-${Date.now()}`);
  const tmp = `${scratch}.tmp${process.pid}`;
  const liveTmp = `${scratch}.live${process.pid}`;
  const wideTmp = `${scratch}.wide${process.pid}`;
  const gapTmp = `${scratch}.gap${process.pid}`;
  const timed = reader.header.hasTime;
  const fd = openSync(tmp, 'w');
  const liveFd = expectOps === undefined ? openSync(liveTmp, 'w+') : -1;
  const guessEvery = expectOps === undefined ? 0 : Math.floor(expectOps / SERIES_SAMPLES) + 1;
  const guessed: number[] = [];
  const wideFd = openSync(wideTmp, 'w+');
  const gapFd = timed ? openSync(gapTmp, 'w+') : -1;
  let closed = false;
  try {
    const cap = reader.header.chunkEvents;
    const words = new Uint32Array(cap * R_WORDS);
    const bytes = new Uint8Array(words.buffer);
    const wide = new Uint32Array(cap * 4);
    const wideBytes = new Uint8Array(wide.buffer);
    const live = new Float64Array(cap);
    const liveBytes = new Uint8Array(live.buffer);
    const gaps = new Uint32Array(timed ? cap : 0);
    const gapBytes = new Uint8Array(gaps.buffer);
    // The recorded clock: the latest time seen, and the time no kept op has taken yet (a left-out event's gap goes to the next op).
    let clock = 0;
    let owed = 0;
    let n = 0;
    let nwide = 0;
    let at = H.bytes;
    let wideAt = 0;
    for (const c of reader.chunks()) {
      const { op, thread, object, size, arg, time } = c;
      const after = reader.liveAfter;
      let k = 0;
      let x = 0;
      for (let i = 0; i < c.length; i++) {
        const o = op[i]!;
        const obj = object[i]!;
        const sz = size[i]!;
        if (time) {
          // Threads' clocks may interleave out of order: time never runs backwards here.
          const t = time[i]!;
          if (t > clock) {
            owed += t - clock;
            clock = t;
          }
        }
        // A failed allocation made nothing; replaying it would only measure a
        // failure path the allocator under test may not share. Same for a
        // failed realloc (NULL for a non-zero size: the old block lives on).
        if (obj === 0 && isAlloc(o) && !(o === Op.realloc && sz === 0)) continue;
        let aux = 0;
        const w = k * R_WORDS;
        if (sz > 0xffffffff) {
          aux = R.wideSize;
          wide[x++] = sz >>> 0;
          wide[x++] = Math.floor(sz / 4294967296);
          words[w + 2] = 0;
        } else words[w + 2] = sz;
        if (o === Op.calloc || o === Op.realloc) {
          const a = arg[i]!;
          wide[x++] = a >>> 0;
          wide[x++] = Math.floor(a / 4294967296);
        } else if (o === Op.memalign || o === Op.posix_memalign || o === Op.aligned_alloc) {
          aux |= Math.log2(arg[i]!); // a power of two: the reader has checked
        }
        words[w] = o | (aux << 8) | (thread[i]! << 16);
        words[w + 1] = obj;
        live[k] = after[i]!;
        if (timed) {
          gaps[k] = Math.min(owed, G.max);
          owed = 0;
        }
        k++;
        if (guessEvery && (n + k - 1) % guessEvery === 0) guessed.push(after[i]!);
      }
      at += writeAll(fd, bytes, k * R.bytes, at);
      wideAt += writeAll(wideFd, wideBytes, x * 4, wideAt);
      if (gapFd >= 0) writeAll(gapFd, gapBytes, k * G.bytes, n * G.bytes);
      if (liveFd >= 0) writeAll(liveFd, liveBytes, k * 8, n * 8);
      n += k;
      nwide += x / 2;
    }
    if (!reader.footer) throw inputError(`${tracePath}: trace is cut short (no footer)`, 'replay needs a whole trace; record or generate it again');
    if (expectOps !== undefined && n !== expectOps) return undefined;
    // Padding to 8 bytes, then the wide values.
    const pad = (8 - (at % 8)) % 8;
    at += writeAll(fd, new Uint8Array(pad), pad, at);
    const block = new Uint8Array(1 << 20);
    const append = (from: number, bytes: number): void => {
      for (let off = 0; off < bytes; ) {
        const got = readSync(from, block, 0, Math.min(block.length, bytes - off), off);
        at += writeAll(fd, block, got, at);
        off += got;
      }
    };
    append(wideFd, wideAt);
    if (gapFd >= 0) append(gapFd, n * G.bytes);
    const threads = Math.max(1, reader.live.threads);
    const header = Buffer.alloc(H.bytes);
    header.write(PLAN_LAYOUT.magic, 0, 'latin1');
    header.writeUInt32LE(PLAN_LAYOUT.version, H.version);
    header.writeUInt32LE(threads, H.threads);
    header.writeBigUInt64LE(BigInt(n), H.nops);
    header.writeBigUInt64LE(BigInt(reader.live.nextId), H.nobjects);
    header.writeBigUInt64LE(BigInt(at), H.fileBytes);
    header.writeBigUInt64LE(BigInt(nwide), H.nwide);
    header.writeBigUInt64LE(BigInt(timed ? n : 0), H.ngaps);
    writeAll(fd, header, H.bytes, 0);
    closeSync(fd);
    closed = true;
    // Mirrors the driver: samples after ops every, 2·every, … (engine/native/replay.c).
    const sampleEvery = Math.floor(n / SERIES_SAMPLES) + 1;
    // The driver samples after op index i (0-based) = every, 2·every, …: the (i+1)-th op's live bytes.
    const liveBytesAt: number[] = [];
    const one = new Float64Array(1);
    for (let i = sampleEvery; i < n && liveBytesAt.length < SERIES_SAMPLES; i += sampleEvery) {
      if (liveFd >= 0) {
        readSync(liveFd, new Uint8Array(one.buffer), 0, 8, i * 8);
        liveBytesAt.push(one[0]!);
      } else liveBytesAt.push(guessed[i / sampleEvery]!);
    }
    const checksum = reader.checksum!;
    renameSync(tmp, pathOf(checksum));
    return { meta: { ops: n, threads: reader.live.threads, liveBytesAt, sampleEvery, footer: reader.footer }, checksum };
  } finally {
    if (!closed) closeSync(fd);
    if (liveFd >= 0) closeSync(liveFd);
    closeSync(wideFd);
    if (gapFd >= 0) closeSync(gapFd);
    for (const f of [liveTmp, wideTmp, gapTmp, tmp]) rmSync(f, { force: true });
  }
}

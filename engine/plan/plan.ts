import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, claimedFooter, failure, inputError, openTrace, type TraceFooter } from '../../traces/index.js';
import { evictPlans, touchPlan } from './cache.js';
import { PLAN_LAYOUT } from './layout.js';
import { plannerPath } from './planner.js';

/** Bumped whenever the plan layout or the planner's output changes (engine/native/plan.h). */
export const PLAN_VERSION = PLAN_LAYOUT.version;
/** Points of the live-bytes-vs-RSS series; passed to the driver as `--samples`. */
export const SERIES_SAMPLES = 100;

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
  // before reading, and so are the plan's layout and the series' sample points (else the planner
  // reads the trace twice).
  const { meta, checksum } = buildPlan(tracePath, pathOf, claim?.events);
  const planPath = pathOf(checksum);
  const metaPath = `${planPath}.json`;
  writeFileSync(`${metaPath}.tmp${process.pid}`, JSON.stringify(meta));
  renameSync(`${metaPath}.tmp${process.pid}`, metaPath);
  evictPlans(planPath);
  return { planPath, checksum, ops: meta.ops, threads: meta.threads, liveBytesAt: meta.liveBytesAt, sampleEvery: meta.sampleEvery };
}

/**
 * Streams the trace into a plan file with the native planner
 * (engine/native/planner.c, which says what a plan holds and checks every
 * rule of traces/FORMAT.md as it reads). The header is read and checked here
 * (traces/format/checks.ts, the one definition of its keys); the planner
 * reads the chunks and the footer from the byte after it. The plan is
 * written under a scratch name, renamed to its checksum's once it is whole.
 * `expectOps` (the footer's claimed event count) lets the planner lay the
 * plan out before reading and write it in one pass, when no event is left out.
 */
function buildPlan(tracePath: string, pathOf: (checksum: string) => string, expectOps: number | undefined): { meta: PlanMeta; checksum: string } {
  const head = openTrace(tracePath);
  head.close();
  const { hasTime, chunkEvents } = head.header;
  const tmp = join(cacheDir('plans'), `new-${process.pid}-${Date.now()}.tmp${process.pid}`);
  try {
    const args = [tracePath, String(head.dataOffset), hasTime ? '1' : '0', String(chunkEvents), String(SERIES_SAMPLES), tmp];
    if (expectOps !== undefined) args.push(String(expectOps));
    const r = spawnSync(plannerPath(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 });
    if (r.status !== 0) throw plannerError(tracePath, r.status, r.signal, r.stderr ?? '');
    const out = JSON.parse(r.stdout) as PlanMeta & { checksum: string };
    renameSync(tmp, pathOf(out.checksum));
    const { checksum, ...meta } = out;
    return { meta, checksum };
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * The planner's refusal, `KIND\tMESSAGE\tHINT` (KIND `input` or `failure`),
 * as the error the TypeScript reader would throw. The message holds the
 * trace's path, which may hold tabs and newlines; the kind and the hint never do.
 */
function plannerError(tracePath: string, status: number | null, signal: string | null, stderr: string): Error {
  const text = stderr.replace(/\n$/, '');
  const kind = text.slice(0, text.indexOf('\t'));
  const last = text.lastIndexOf('\t');
  if ((kind === 'input' || kind === 'failure') && last > kind.length) {
    const message = text.slice(kind.length + 1, last);
    const hint = text.slice(last + 1);
    return kind === 'input' ? inputError(message, hint) : failure(message, hint);
  }
  return failure(`${tracePath}: the planner ended ${signal ? `by signal ${signal}` : `with status ${status}`}: ${text.split('\n').at(-1)}`, 'this is a bug of allocreplay; please report it with the trace');
}

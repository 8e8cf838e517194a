import { lstatSync, readdirSync, rmSync, statfsSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, usageError } from '../../traces/index.js';
import { PLAN_LAYOUT } from './layout.js';

/** The plan cache's cap when ALLOCREPLAY_CACHE_MAX is not set, on a disk large enough (see DISK_SHARE). */
export const DEFAULT_CACHE_MAX = 8 * 2 ** 30;
/** Without ALLOCREPLAY_CACHE_MAX the plans take at most this share of the cache's filesystem. */
export const DISK_SHARE = 0.1;
/** Scratch files of a planner that died, and plans of another plan version, are removed once unused this long (ms). */
const STALE_MS = 60 * 60 * 1000;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Parses a byte size: `500M`, `8G`, `1.5GiB`, `0`, `1048576`. */
export function parseBytes(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw usageError(`${what}: '${text}' is not a size`, 'write a number of bytes with an optional K, M, G or T suffix, e.g. 8G');
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/**
 * The plan cache's cap in bytes: $ALLOCREPLAY_CACHE_MAX, else 8 GiB or a
 * tenth of the filesystem the cache lives on, whichever is less (a plan is
 * 16 to 20 bytes per event: a small disk must not fill with plans).
 */
export function cacheMaxBytes(): number {
  const v = process.env.ALLOCREPLAY_CACHE_MAX;
  if (v !== undefined && v !== '') return parseBytes(v, 'ALLOCREPLAY_CACHE_MAX');
  let disk = Infinity;
  try {
    const fs = statfsSync(cacheDir('plans'));
    disk = fs.blocks * fs.bsize;
  } catch {
    // no statfs here: the fixed cap alone
  }
  return Math.min(DEFAULT_CACHE_MAX, Math.floor(disk * DISK_SHARE));
}

interface Entry {
  plan: string;
  bytes: number;
  used: number;
}

/** A plan of another version than this allocreplay's: no run of this version can use it again. */
function otherVersion(name: string): boolean {
  const m = /-v(\d+)\.plan(\.json)?$/.exec(name);
  return m !== null && Number(m[1]) !== PLAN_LAYOUT.version;
}

/**
 * Every plan in the cache with its size (plan + metadata) and last use;
 * removes dead scratch files, and plans of another version (left by an
 * earlier allocreplay) once unused for STALE_MS: an older version running
 * beside this one meanwhile keeps its own.
 */
function entries(): Entry[] {
  const dir = cacheDir('plans');
  const now = Date.now();
  const out: Entry[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    let st;
    try {
      st = statSync(path);
    } catch {
      continue; // removed by another process meanwhile
    }
    // A plan being written (`.tmpPID`), and the scratch files earlier planners left when they died
    // (`.planner-…`, `.livePID`, `.widePID`; today's writes its plan in place and keeps none).
    if (/\.(tmp|live|wide)\d+$|^\.planner-/.test(name)) {
      if (now - st.mtimeMs > STALE_MS) rmSync(path, { force: true });
      continue;
    }
    if (otherVersion(name)) {
      // A plan's metadata goes with its plan, whose mtime is the LRU clock.
      let used = st.mtimeMs;
      if (name.endsWith('.json'))
        try {
          used = statSync(path.slice(0, -'.json'.length)).mtimeMs;
        } catch {
          // its plan is gone
        }
      if (now - used > STALE_MS) rmSync(path, { force: true });
      continue;
    }
    if (!name.endsWith('.plan')) continue;
    let meta = 0;
    try {
      meta = statSync(`${path}.json`).size;
    } catch {
      // a plan without metadata is rebuilt on use; it still takes room
    }
    out.push({ plan: path, bytes: st.size + meta, used: st.mtimeMs });
  }
  return out;
}

/** Marks a plan as just used (its mtime is the LRU clock). */
export function touchPlan(plan: string): void {
  const now = new Date();
  try {
    utimesSync(plan, now, now);
  } catch {
    // evicted by another process meanwhile: the driver will say so
  }
}

function remove(e: Entry): void {
  rmSync(e.plan, { force: true });
  rmSync(`${e.plan}.json`, { force: true });
}

/**
 * Removes least recently used plans until the cache fits `max` bytes.
 * `keep` (the plan just made) stays even when it alone is over the cap.
 * Returns what was removed.
 */
function evictTo(max: number, keep?: string): { removed: number; freed: number } {
  const all = entries().sort((a, b) => a.used - b.used);
  let total = all.reduce((s, e) => s + e.bytes, 0);
  let removed = 0;
  let freed = 0;
  for (const e of all) {
    if (total <= max) break;
    if (e.plan === keep) continue;
    remove(e);
    total -= e.bytes;
    removed++;
    freed += e.bytes;
  }
  return { removed, freed };
}

/** After a plan is written: keeps the cache under its cap. */
export function evictPlans(keep: string): void {
  evictTo(cacheMaxBytes(), keep);
}

export interface PlanCacheInfo {
  dir: string;
  plans: number;
  bytes: number;
  maxBytes: number;
  /** Bytes of the other cache folders (native code, builds, worktrees). */
  other: Record<string, number>;
}

function du(path: string): number {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let sum = 0;
  for (const name of readdirSync(path)) sum += du(join(path, name));
  return sum;
}

/** What the cache holds. */
export function planCacheInfo(): PlanCacheInfo {
  const all = entries();
  const root = cacheDir();
  const other: Record<string, number> = {};
  for (const name of readdirSync(root)) if (name !== 'plans') other[name] = du(join(root, name));
  return { dir: cacheDir('plans'), plans: all.length, bytes: all.reduce((s, e) => s + e.bytes, 0), maxBytes: cacheMaxBytes(), other };
}

/** Removes least recently used plans until the cache fits `max` bytes (0: every plan). */
export function prunePlans(max: number): { removed: number; freed: number } {
  return evictTo(max);
}

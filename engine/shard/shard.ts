/**
 * Shards: a matrix split deterministically into N parts so that N processes
 * (on one machine or many, under GNU parallel, a Slurm array or a Kubernetes
 * Indexed Job) each measure one part and write their own database. The
 * split depends only on what the matrix is (build keys, trace checksums,
 * target identities, costs), never on the machine, the time or the order of
 * processes, so every shard computes the same partition on its own.
 */
import { createHash } from 'node:crypto';
import { usageError } from '../../traces/index.js';

/** One part of a matrix: `index` counts from 1 (`--shard 2/4` is the second of four). */
export interface Shard {
  index: number;
  count: number;
  /** Where it came from: `--shard 2/4`, `SLURM_ARRAY_TASK_ID=5 …`, … */
  source: string;
}

/** A piece of work that must stay on one shard (a build with all its runs, or one run of an allocator that needs no build). */
export interface ShardUnit {
  /** Machine-independent identity of the unit. */
  key: string;
  /** Expected cost, in replayed events (a build counts as `BUILD_COST`). */
  cost: number;
}

/** What one build is expected to cost, in replayed events: builds take seconds to minutes, a replay of 1M events about a second. */
export const BUILD_COST = 5_000_000;

/** The variable that gives the shard count where the scheduler does not export one (Kubernetes, GNU parallel). */
export const SHARD_COUNT_ENV = 'ALLOCREPLAY_SHARD_COUNT';

function positive(text: string, what: string, hint: string): number {
  if (!/^\d+$/.test(text.trim())) throw usageError(`${what} '${text}' is not a whole number`, hint);
  return Number(text.trim());
}

/** Parses `K/N` (1 ≤ K ≤ N). */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const hint = 'pass --shard K/N with 1 ≤ K ≤ N, e.g. --shard 2/4 for the second of four shards';
  if (!m) throw usageError(`--shard '${text}' is not K/N`, hint);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw usageError(`--shard ${text}: K must be between 1 and N`, hint);
  return { index, count, source: `--shard ${index}/${count}` };
}

/**
 * The shard a scheduler gave this process, if any:
 * - Slurm job arrays: `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`, and
 *   `SLURM_ARRAY_TASK_MIN` / `SLURM_ARRAY_TASK_STEP` so `--array=1-8` and
 *   `--array=0-14:2` both count from the first task;
 * - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` (from 0); Kubernetes
 *   does not export the completions count, so it comes from `countFlag`
 *   (`--shard-count`) or `ALLOCREPLAY_SHARD_COUNT`, and is required;
 * - GNU parallel: `PARALLEL_SEQ` (from 1), used only when a count is given
 *   the same way (parallel also runs unrelated commands side by side).
 * Returns undefined when none applies.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv, countFlag?: number): Shard | undefined {
  const countHint = `pass --shard-count N or set ${SHARD_COUNT_ENV}=N (the number of shards), or --shard K/N`;
  const given = countFlag ?? (env[SHARD_COUNT_ENV] !== undefined ? positive(env[SHARD_COUNT_ENV]!, SHARD_COUNT_ENV, countHint) : undefined);
  const make = (index: number, count: number, source: string): Shard => {
    if (count < 1 || index < 1 || index > count) throw usageError(`${source} gives shard ${index} of ${count}, which does not exist`, 'check the array/completions range against the shard count');
    return { index, count, source };
  };
  if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_ID !== '') {
    const hint = 'run under `sbatch --array=…`, or pass --shard K/N';
    const id = positive(env.SLURM_ARRAY_TASK_ID, 'SLURM_ARRAY_TASK_ID', hint);
    const min = env.SLURM_ARRAY_TASK_MIN ? positive(env.SLURM_ARRAY_TASK_MIN, 'SLURM_ARRAY_TASK_MIN', hint) : 0;
    const step = env.SLURM_ARRAY_TASK_STEP ? Math.max(1, positive(env.SLURM_ARRAY_TASK_STEP, 'SLURM_ARRAY_TASK_STEP', hint)) : 1;
    const count = given ?? (env.SLURM_ARRAY_TASK_COUNT ? positive(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT', hint) : undefined);
    if (count === undefined) throw usageError('SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not', countHint);
    if ((id - min) % step !== 0) throw usageError(`SLURM_ARRAY_TASK_ID=${id} is not on the array's step ${step} from ${min}`, 'use a plain range such as --array=1-8');
    const vars = [`SLURM_ARRAY_TASK_ID=${id}`, `SLURM_ARRAY_TASK_MIN=${min}`, ...(step > 1 ? [`SLURM_ARRAY_TASK_STEP=${step}`] : []), given !== undefined ? `count ${given}` : `SLURM_ARRAY_TASK_COUNT=${count}`];
    return make((id - min) / step + 1, count, vars.join(' '));
  }
  if (env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETION_INDEX !== '') {
    const index = positive(env.JOB_COMPLETION_INDEX, 'JOB_COMPLETION_INDEX', 'run as a Kubernetes Indexed Job, or pass --shard K/N');
    if (given === undefined) throw usageError(`JOB_COMPLETION_INDEX=${index} is set but the number of shards is not (Kubernetes does not export the completions count)`, countHint);
    return make(index + 1, given, `JOB_COMPLETION_INDEX=${index} count ${given}`);
  }
  if (env.PARALLEL_SEQ !== undefined && env.PARALLEL_SEQ !== '' && given !== undefined) {
    const seq = positive(env.PARALLEL_SEQ, 'PARALLEL_SEQ', 'run under GNU parallel, or pass --shard K/N');
    return make(seq, given, `PARALLEL_SEQ=${seq} count ${given}`);
  }
  return undefined;
}

/** The shard to run: `--shard` first, else the scheduler's variables, else none (the whole matrix). */
export function chooseShard(flag: string | undefined, countFlag: number | undefined, env: NodeJS.ProcessEnv = process.env): Shard | undefined {
  if (flag !== undefined) {
    const s = parseShard(flag);
    if (countFlag !== undefined && countFlag !== s.count) throw usageError(`--shard ${flag} and --shard-count ${countFlag} disagree`, 'give one of them');
    return s;
  }
  const s = shardFromEnv(env, countFlag);
  if (!s && countFlag !== undefined) throw usageError('--shard-count needs a shard index', 'run under Slurm, a Kubernetes Indexed Job or GNU parallel, or pass --shard K/N');
  return s;
}

/** A stable hash of a unit's identity parts, for keys. */
export function unitKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

/**
 * Assigns units to shards, balanced by cost: largest first, each to the
 * shard with the least cost so far (ties: the lower shard). Units are
 * ordered by (cost, key) first, so the answer depends only on the set of
 * units, never on the order they were listed in. Returns unit key → shard
 * index (from 1).
 */
export function partition(units: ShardUnit[], count: number): Map<string, number> {
  const byKey = new Map<string, number>();
  for (const u of units) byKey.set(u.key, (byKey.get(u.key) ?? 0) + u.cost);
  const sorted = [...byKey].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const out = new Map<string, number>();
  for (const [key, cost] of sorted) {
    let best = 0;
    for (let i = 1; i < count; i++) if (load[i]! < load[best]!) best = i;
    load[best]! += cost;
    out.set(key, best + 1);
  }
  return out;
}

/** `results.sqlite` → `results.shard-2-of-4.sqlite`: each shard's own database when no --db is given. */
export function shardDbPath(path: string, shard: Shard): string {
  const suffix = `.shard-${shard.index}-of-${shard.count}`;
  return /\.sqlite$/.test(path) ? path.replace(/\.sqlite$/, `${suffix}.sqlite`) : `${path}${suffix}`;
}

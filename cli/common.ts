import { Flags } from '@oclif/core';
import { defaultDbPath, openStore, type Store } from '../reports/index.js';
import { METRICS, type Metric, PACE_MODES, type PaceMode, REPLAY_MODES, type ReplayMode, TOUCH_POLICIES, type TouchPolicy, usageError } from '../traces/index.js';
import { existsSync, realpathSync } from 'node:fs';
import { basename, delimiter, join, relative, resolve } from 'node:path';
import { packagePath } from '../traces/index.js';
import { checkFlagName, type Config, DEFAULT_PACE_SCALE, loadConfig, parseFlagDecl, type ReplayOptions, resolveSelectorRevisions } from '../engine/index.js';

/** Flags shared by replay, matrix and bisect. */
export const replayFlags = {
  repeat: Flags.integer({ description: 'measured repetitions (metric time)', default: 10, min: 1, max: 1000 }),
  warmup: Flags.integer({ description: 'untimed repetitions first', default: 1, min: 0 }),
  mode: Flags.option({ description: 'serial: recorded global order on one thread; threads: one thread per recorded thread', options: REPLAY_MODES, default: 'serial' })(),
  touch: Flags.option({ description: 'write to new blocks: none, first byte, all of it, or program (all of it up to 1 MiB, and read it again before free); default none, recorded traces too (they are paced instead: --pace; README: replay modes)', options: TOUCH_POLICIES })(),
  pace: Flags.option({ description: "none: calls back to back; recorded: before each call, program work (touching live blocks) in proportion to the trace's recorded time; default none, and recorded for recorded traces (a trace without time replays as none)", options: PACE_MODES })(),
  'pace-scale': Flags.integer({ description: `work units (one cache line of a live block each) per recorded µs, with --pace recorded (default: calibrated once per recorded trace and machine so the work matches the program's own time; ${DEFAULT_PACE_SCALE} for other traces)`, min: 1, max: 1000000 }),
  metric: Flags.option({ description: 'time (wall clock, repeated) or instructions (callgrind, exact)', options: METRICS, default: 'time' })(),
  timeout: Flags.integer({ description: 'seconds before a run is killed and recorded as timeout', default: 300, min: 1 }),
};

/** How stored results are reused (matrix). */
export const reuseFlags = {
  force: Flags.boolean({ description: 'measure again configurations already stored' }),
  'retry-failed': Flags.boolean({ description: 'measure again configurations whose stored run failed, crashed or timed out (and rebuild failed builds)' }),
};

/** `{jobs}` in build commands. The CLI sets ALLOCREPLAY_JOBS from it, which every build in the process reads. */
export const jobsFlag = { jobs: Flags.integer({ char: 'j', description: 'parallel jobs for builds: the {jobs} placeholder (default ALLOCREPLAY_JOBS, else the number of cores)', min: 1 }) };

/** Applies --jobs to every build this process makes. */
export function applyJobs(jobs: number | undefined): void {
  if (jobs !== undefined) process.env.ALLOCREPLAY_JOBS = String(jobs);
}

/** `--threshold P`: a non-negative percentage, parsed once for every command that judges a change. */
export const thresholdFlag = (description: string) =>
  Flags.custom<number>({
    description,
    default: 2,
    helpValue: 'PERCENT',
    parse: async (text) => {
      const t = Number(text);
      // oclif names the flag and adds the usage line (cli/usage.ts).
      if (text.trim() === '' || !Number.isFinite(t) || t < 0) throw new Error(`${text} is not a percentage (pass a number of percent, e.g. --threshold 2)`);
      return t;
    },
  })();

export const dbFlag = { db: Flags.string({ description: 'results database (default .allocreplay/results.sqlite beside allocreplay.yaml, else here)' }) };

/**
 * Replay options from the flags. What the command line leaves out is named
 * in `auto`: recorded traces then take the modes that predict their program
 * (engine RECORDED_REPLAY), every other trace the plain defaults.
 */
export function replayOptions(f: { repeat: number; warmup: number; mode: ReplayMode; touch?: TouchPolicy; pace?: PaceMode; 'pace-scale'?: number; metric: Metric; timeout: number }): ReplayOptions {
  if (f['pace-scale'] !== undefined && f.pace !== 'recorded') throw usageError('--pace-scale applies only with --pace recorded', 'add --pace recorded, or drop --pace-scale');
  const auto = [...(f.touch === undefined ? (['touch'] as const) : []), ...(f.pace === undefined ? (['pace'] as const) : [])];
  return {
    ...(f.pace === 'recorded' ? { pace: 'recorded' as const, ...(f['pace-scale'] !== undefined ? { paceScale: f['pace-scale'] } : {}) } : {}),
    repeat: f.repeat,
    warmup: f.warmup,
    mode: f.mode,
    touch: f.touch ?? 'none',
    metric: f.metric,
    timeoutMs: f.timeout * 1000,
    ...(auto.length ? { auto } : {}),
  };
}

/** The results database: --db, else allocreplay.yaml's `db`, else the default path. */
export function storeFor(db: string | undefined, readonly = false): Store {
  return openStore(db ?? loadConfig()?.db ?? defaultDbPath(), { readonly });
}

/**
 * `NAME=a,b,c` → [NAME, [a,b,c]]. A comma inside one value is written `\,`
 * (`MALLOC_CONF=tcache:false\,narenas:1` is one value).
 */
export function parseAxis(text: string, flag: string): [string, string[]] {
  const m = /^([^=]+)=(.+)$/s.exec(text);
  if (!m) throw usageError(`${flag} ${text}: expected NAME=value[,value…]`, `for example ${flag} TS_POOL=1,2 (a comma inside a value: \\,)`);
  const values = m[2]!.split(/(?<!\\),/).map((v) => v.replaceAll('\\,', ',').trim());
  return [checkFlagName(m[1]!, flag), values];
}

/** Repeated `--set NAME=…` flags as axes; a name given twice gets both lists of values. */
export function parseAxes(list: string[], flag: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const text of list) {
    const [name, values] = parseAxis(text, flag);
    const before = out[name];
    out[name] = before ? [...new Set([...before, ...values])] : values;
  }
  return out;
}

/** `NAME=VALUE` flags (replay, target build, bisect): one value each, commas and all. */
export function parseAssignments(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const text of list) {
    const m = /^([^=]+)=(.*)$/s.exec(text);
    if (!m) throw usageError(`${flag} ${text}: expected NAME=VALUE`, `for example ${flag} TS_POOL=2`);
    out[checkFlagName(m[1]!, flag)] = m[2]!;
  }
  return out;
}

/** `--repo DIR --build CMD --artifact PATH --flag NAME=KIND[:DEFAULT]`: a source target given inline. */
export const inlineSourceFlags = {
  repo: Flags.string({ description: 'source target: the allocator repository (built in a private copy, never in place)' }),
  build: Flags.string({ description: "source target: build command template ({cflags} {make} {cmake} {configure} {jobs} {NAME}), e.g. 'make -j{jobs} CFLAGS={cflags}'" }),
  artifact: Flags.string({ description: 'source target: the shared library the build makes, relative to the repository ({NAME} takes a flag value; repeat for candidates tried in order)', multiple: true }),
  flag: Flags.string({ description: 'source target: declare a flag NAME=KIND[:DEFAULT], KIND one of define, make, cmake, configure, env (e.g. MI_SECURE=cmake:OFF)', multiple: true, default: [] }),
  dirty: Flags.boolean({ description: "build a git repository's uncommitted changes (else a dirty work tree at HEAD is refused)" }),
};

/**
 * Adds an inline source target to the config (creating an empty one when
 * there is no allocreplay.yaml) and returns its name, or undefined.
 */
export function inlineTarget(config: Config | undefined, f: { repo?: string; build?: string; artifact?: string[]; flag?: string[] }): { config: Config | undefined; name: string | undefined } {
  const artifact = f.artifact ?? [];
  if (!f.repo && !f.build && artifact.length === 0) {
    if (f.flag?.length) throw usageError('--flag declares a flag of an inline source target', 'give --repo, --build and --artifact too (targets of allocreplay.yaml declare flags under flags:)');
    return { config, name: undefined };
  }
  if (!f.repo || !f.build || artifact.length === 0) throw usageError('an inline source target needs --repo, --build and --artifact together', "for example --repo ../myalloc --build 'make -j{jobs} CFLAGS_EXTRA={cflags}' --artifact libmyalloc.so");
  const name = basename(resolve(f.repo));
  const c: Config = config ?? { path: '(command line)', dir: process.cwd(), traces: {}, targets: {}, matrices: {} };
  c.targets[name] = { kind: 'source', name, repo: resolve(f.repo), build: f.build, artifact: artifact.length === 1 ? artifact[0]! : artifact, flags: Object.fromEntries((f.flag ?? []).map(parseFlagDecl)), env: {} };
  return { config: c, name };
}

/** A selector with `rev=` refs resolved through `--repo`, allocreplay.yaml's source targets and the store's repositories. */
export function selectorFor(store: Store, text: string | undefined, repo?: string): string | undefined {
  if (text === undefined) return undefined;
  const config = loadConfig();
  const repos = [...(repo ? [resolve(repo)] : []), ...Object.values(config?.targets ?? {}).flatMap((t) => (t.kind === 'source' ? [t.repo] : []))];
  return resolveSelectorRevisions(store, text, repos);
}

/**
 * How to run this allocreplay again from the working directory, for "next:"
 * hints: `allocreplay` when that name on PATH is this installation, else
 * `node cli/bin/run.js` by a path that works from here.
 */
export function selfCommand(): string {
  const bin = packagePath('cli', 'bin', 'run.js');
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, 'allocreplay');
    try {
      if (dir && existsSync(p) && realpathSync(p) === realpathSync(bin)) return 'allocreplay';
    } catch {
      // unreadable PATH entry
    }
  }
  const rel = relative(process.cwd(), bin);
  return `node ${rel.startsWith('..') ? bin : rel}`;
}

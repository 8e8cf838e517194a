import { Flags } from '@oclif/core';
import { defaultDbPath, openStore, type Store } from '../reports/index.js';
import { usageError } from '../traces/index.js';
import { basename, resolve } from 'node:path';
import { type Config, loadConfig, type ReplayOptions } from '../engine/index.js';

/** Flags shared by replay, matrix and bisect. */
export const replayFlags = {
  repeat: Flags.integer({ description: 'measured repetitions (metric time)', default: 10, min: 1, max: 1000 }),
  warmup: Flags.integer({ description: 'untimed repetitions first', default: 1, min: 0 }),
  mode: Flags.string({ description: 'serial: recorded global order on one thread; threads: one thread per recorded thread', options: ['serial', 'threads'], default: 'serial' }),
  touch: Flags.string({ description: 'write to new blocks: none, first byte, or all of it', options: ['none', 'first', 'all'], default: 'none' }),
  metric: Flags.string({ description: 'time (wall clock, repeated) or instructions (callgrind, exact)', options: ['time', 'instructions'], default: 'time' }),
  timeout: Flags.integer({ description: 'seconds before a run is killed and recorded as timeout', default: 300, min: 1 }),
};

export const dbFlag = { db: Flags.string({ description: 'results database (default .allocreplay/results.sqlite beside allocreplay.yaml, else here)' }) };

export function replayOptions(f: { repeat: number; warmup: number; mode: string; touch: string; metric: string; timeout: number }): ReplayOptions {
  return {
    repeat: f.repeat,
    warmup: f.warmup,
    mode: f.mode as ReplayOptions['mode'],
    touch: f.touch as ReplayOptions['touch'],
    metric: f.metric as ReplayOptions['metric'],
    timeoutMs: f.timeout * 1000,
  };
}

/** The results database: --db, else allocreplay.yaml's `db`, else the default path. */
export function storeFor(db: string | undefined, readonly = false): Store {
  return openStore(db ?? loadConfig()?.db ?? defaultDbPath(), { readonly });
}

/** `NAME=a,b,c` → [NAME, [a,b,c]]. */
export function parseAxis(text: string, flag: string): [string, string[]] {
  const m = /^([A-Za-z_][\w.]*)=(.+)$/.exec(text);
  if (!m) throw usageError(`${flag} ${text}: expected NAME=value[,value…]`, `for example ${flag} TS_POOL=1,2`);
  return [m[1]!, m[2]!.split(',').map((v) => v.trim())];
}

/** `--repo DIR --build CMD --artifact PATH`: a source target given inline. */
export const inlineSourceFlags = {
  repo: Flags.string({ description: 'source target: the allocator repository (built in a private copy, never in place)' }),
  build: Flags.string({ description: "source target: build command template ({cflags} {jobs} {make} {cmake}), e.g. 'make -j{jobs} CFLAGS={cflags}'" }),
  artifact: Flags.string({ description: 'source target: the shared library the build makes, relative to the repository' }),
};

/**
 * Adds an inline source target to the config (creating an empty one when
 * there is no allocreplay.yaml) and returns its name, or undefined.
 */
export function inlineTarget(config: Config | undefined, f: { repo?: string; build?: string; artifact?: string }): { config: Config | undefined; name: string | undefined } {
  if (!f.repo && !f.build && !f.artifact) return { config, name: undefined };
  if (!f.repo || !f.build || !f.artifact) throw usageError('an inline source target needs --repo, --build and --artifact together', "for example --repo ../myalloc --build 'make -j{jobs} CFLAGS_EXTRA={cflags}' --artifact libmyalloc.so");
  const name = basename(resolve(f.repo));
  const c: Config = config ?? { path: '(command line)', dir: process.cwd(), traces: {}, targets: {}, matrices: {} };
  c.targets[name] = { kind: 'source', name, repo: resolve(f.repo), build: f.build, artifact: f.artifact, flags: {}, env: {} };
  return { config: c, name };
}

import { existsSync, readdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { usageError } from '../../traces/index.js';

/** An allocator a replay can run through. */
export interface Target {
  /** The name results are stored under: `system`, `jemalloc`, `tinyslab`, a .so's name. */
  name: string;
  kind: 'system' | 'preload' | 'source';
  /** The shared library to LD_PRELOAD (none for the system allocator). */
  library?: string;
  /** Runtime environment the allocator is configured by (MALLOC_CONF, …). */
  env: Record<string, string>;
}

export interface TargetAvailability {
  name: string;
  kind: Target['kind'];
  available: boolean;
  library?: string;
  /** Why a target is missing, and how to get it. */
  why?: string;
}

/** Debian's packaged allocators, looked for in the multiarch library dirs. */
const PACKAGED: { name: string; pattern: RegExp; pkg: string }[] = [
  { name: 'jemalloc', pattern: /^libjemalloc\.so\.\d+$/, pkg: 'libjemalloc2' },
  { name: 'mimalloc', pattern: /^libmimalloc\.so\.[\d.]+$/, pkg: 'libmimalloc2.0' },
  { name: 'tcmalloc', pattern: /^libtcmalloc_minimal\.so\.\d+$/, pkg: 'libtcmalloc-minimal4' },
];

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];

function findLibrary(pattern: RegExp): string | undefined {
  for (const dir of LIB_DIRS) {
    if (!existsSync(dir)) continue;
    const hit = readdirSync(dir)
      .filter((f) => pattern.test(f))
      .sort()
      .at(-1);
    if (hit) return resolve(dir, hit);
  }
  return undefined;
}

/** The system allocator and every packaged allocator, available or not. */
export function listTargets(): TargetAvailability[] {
  const out: TargetAvailability[] = [{ name: 'system', kind: 'system', available: true, why: 'the C library\'s malloc (no preload)' }];
  for (const p of PACKAGED) {
    const library = findLibrary(p.pattern);
    out.push(
      library
        ? { name: p.name, kind: 'preload', available: true, library }
        : { name: p.name, kind: 'preload', available: false, why: `not installed (apt-get install ${p.pkg})` },
    );
  }
  return out;
}

/**
 * Resolves a packaged target name (`system`, `jemalloc`, `mimalloc`,
 * `tcmalloc`) or a path to a shared library to preload.
 */
export function resolveTarget(spec: string, env: Record<string, string> = {}): Target {
  if (spec === 'system') return { name: 'system', kind: 'system', env };
  const packaged = listTargets().find((t) => t.name === spec);
  if (packaged) {
    if (!packaged.library) throw usageError(`target ${spec} is ${packaged.why}`, '`allocreplay target list` shows what is available');
    return { name: spec, kind: 'preload', library: packaged.library, env };
  }
  if (spec.includes('/') || spec.endsWith('.so') || /\.so\.\d/.test(spec)) {
    const library = resolve(spec);
    if (!existsSync(library)) throw usageError(`target ${spec}: no such library`, 'give the path of a shared library built to be LD_PRELOADed');
    return { name: basename(library), kind: 'preload', library, env };
  }
  throw usageError(`unknown target '${spec}'`, 'use system, jemalloc, mimalloc, tcmalloc, tinyslab, a target from allocreplay.yaml, or a path to a .so');
}

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { failure } from './errors.js';
import { cacheDir } from './paths.js';

export interface NativeBuild {
  /** Absolute paths of the C sources (headers they include go in `deps`). */
  sources: string[];
  /** Extra files whose content changes the output (headers). */
  deps?: string[];
  /** Output name, e.g. `replay` or `librecorder.so`. */
  name: string;
  /** Compiler flags besides the default `-std=c11 -O2 -Wall -Wextra`. */
  cflags?: string[];
  /** Linker flags, after the sources (e.g. `-ldl -lpthread`). */
  ldflags?: string[];
  /** Build a shared object (`-shared -fPIC`). */
  shared?: boolean;
}

/** `cc --version` once per compiler and process: every native part asks on every use. */
const versions = new Map<string, string>();

/** The first line of `CC --version`: which compiler (and version) builds native code. */
export function compilerVersion(cc: string): string {
  const known = versions.get(cc);
  if (known !== undefined) return known;
  try {
    const v = execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? cc;
    versions.set(cc, v);
    return v;
  } catch {
    throw failure(`no C compiler: '${cc} --version' failed`, 'install gcc (apt-get install gcc) or set CC');
  }
}

/**
 * Compiles native code on first use and caches the result by a hash of the
 * sources, the compiler and the flags. Returns the path of the binary.
 * Concurrent callers are safe: each compiles to a private name and renames.
 */
export function compileNative(spec: NativeBuild): string {
  const cc = process.env.CC ?? 'cc';
  const cflags = ['-std=c11', '-O2', '-g', '-Wall', '-Wextra', ...(spec.cflags ?? [])];
  if (spec.shared) cflags.push('-shared', '-fPIC');
  const ldflags = spec.ldflags ?? [];
  const h = createHash('sha256');
  h.update(compilerVersion(cc)).update(cflags.join(' ')).update(ldflags.join(' '));
  for (const f of [...spec.sources, ...(spec.deps ?? [])]) h.update(f).update(readFileSync(f));
  const key = h.digest('hex').slice(0, 16);
  const out = join(cacheDir('native'), `${spec.name}-${key}`);
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp${process.pid}`;
  try {
    execFileSync(cc, [...cflags, '-o', tmp, ...spec.sources, ...ldflags], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr ?? String(e);
    const first = stderr.split('\n').find((l) => /error/.test(l)) ?? stderr.split('\n')[0];
    throw failure(`compiling ${spec.name} failed: ${first}`, 'check that a C11 compiler is installed');
  }
  renameSync(tmp, out);
  return out;
}

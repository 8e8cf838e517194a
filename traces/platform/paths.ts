import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (the folder holding package.json), found from this file
 * whether it runs from sources (vitest) or from dist/ (the built CLI).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'traces'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('allocreplay: cannot find the package root');
    dir = up;
  }
}

/** A source file shipped with the package, by path relative to the root. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}

/**
 * The cache directory for compiled native code, plans and builds:
 * $ALLOCREPLAY_CACHE, else $XDG_CACHE_HOME/allocreplay, else ~/.cache/allocreplay.
 */
export function cacheDir(...parts: string[]): string {
  const base =
    process.env.ALLOCREPLAY_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'allocreplay');
  const dir = resolve(base, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

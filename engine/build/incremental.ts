import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { SourceTarget } from './source.js';

/**
 * Incremental builds: one build directory per (target, compile-time flag
 * set), kept under the cache and reused across revisions. A new revision is
 * exported beside it and only the files whose content changed are copied in
 * (so their mtimes alone move), files gone from the source are removed, and
 * make or cmake rebuild only what depends on them. The directory is kept
 * only after a good build; any failure makes the next build start clean.
 */

/** Lists the files the last export put into a kept directory (so removed sources can be removed). */
const MANIFEST = '.allocreplay-sources';

/** What `target show` says about how builds of source targets are made. */
export function buildDirKind(): string {
  return 'incremental: one build directory per flag set, kept and reused across revisions (the build system rebuilds what changed)';
}

export interface ClaimedDir {
  dir: string;
  /** A previous good build is in it. */
  reused: boolean;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims the kept build directory of (target, flags), or returns undefined
 * when another live process is building in it (the caller then builds in a
 * private directory, as a clean build).
 */
export function claimBuildDir(root: string, target: SourceTarget, compile: Record<string, string>): ClaimedDir | undefined {
  const flags = Object.keys(compile)
    .sort()
    .map((k) => `${k}=${compile[k]}`)
    .join('\n');
  const artifact = Array.isArray(target.artifact) ? target.artifact.join('|') : target.artifact;
  const hash = createHash('sha256').update(`${target.repo}\n${target.folder ? 'folder' : 'git'}\n${target.build}\n${artifact}\n${flags}`).digest('hex').slice(0, 24);
  // The name ends in a word, never digits: sweepWorktrees removes `…-PID` folders of dead processes.
  const dir = join(root, `inc-${hash}-kept`);
  const lock = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return { dir, reused: existsSync(join(dir, MANIFEST)), release: () => rmSync(lock, { recursive: true, force: true }) };
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // a claim being written this instant: treat as held
        return undefined;
      }
      if (owner && alive(owner)) return undefined;
      rmSync(lock, { recursive: true, force: true }); // left by a killed build
    }
  }
  return undefined;
}

function filesUnder(dir: string, out: string[] = [], base = dir): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(path, out, base);
    else if (entry.isFile()) out.push(relative(base, path));
  }
  return out;
}

function sameContent(a: string, b: string): boolean {
  if (!existsSync(b)) return false;
  if (statSync(a).size !== statSync(b).size) return false;
  return readFileSync(a).equals(readFileSync(b));
}

/** Brings `work` to the sources in `staging`, touching only the files that differ. */
export function syncSources(staging: string, work: string): void {
  const files = filesUnder(staging);
  const previous = existsSync(join(work, MANIFEST)) ? readFileSync(join(work, MANIFEST), 'utf8').split('\n').filter(Boolean) : [];
  const now = new Set(files);
  for (const f of previous) if (!now.has(f)) rmSync(join(work, f), { force: true });
  for (const f of files) {
    const from = join(staging, f);
    const to = join(work, f);
    if (sameContent(from, to)) continue;
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
  writeFileSync(join(work, MANIFEST), `${files.join('\n')}\n`);
}

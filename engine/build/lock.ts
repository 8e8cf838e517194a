/**
 * A lock per build in the build cache. Processes that share one cache (the
 * shards of a matrix on one machine, or a matrix and a bisection) never
 * build one configuration at the same time, and never read a build's result
 * while another process is writing it: whoever holds the lock builds, the
 * others wait and then find the result cached.
 *
 * The lock is a directory (mkdir is atomic, also on NFS) holding an `owner`
 * file with the host and pid of the holder. A lock whose holder is gone (a
 * killed build: its pid no longer exists on this host) is taken over; a
 * holder on another host is trusted until its lock is older than
 * `STALE_FOREIGN_MS`. Builds are synchronous, so waiting is a blocking sleep.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** A lock held on another host is taken over after this long (ms): longer than any build's timeout. */
const STALE_FOREIGN_MS = 2 * 3600_000;
/** A lock with no owner file yet (its holder is between mkdir and write) is taken over after this long (ms). */
const STALE_UNOWNED_MS = 30_000;
const POLL_MS = 100;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** True while `pid` runs on this host (a zombie, dead but not yet reaped by its parent, counts as gone). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** True when the lock at `path` was left by a holder that is gone. */
function isStale(path: string): boolean {
  let age: number;
  try {
    age = Date.now() - statSync(path).mtimeMs;
  } catch {
    return false; // released meanwhile: try again
  }
  let owner: string;
  try {
    owner = readFileSync(join(path, 'owner'), 'utf8');
  } catch {
    return age > STALE_UNOWNED_MS;
  }
  const m = /^(.*) (\d+)$/.exec(owner.trim());
  if (!m) return age > STALE_UNOWNED_MS;
  if (m[1] !== hostname()) return age > STALE_FOREIGN_MS;
  return !pidAlive(Number(m[2]));
}

/** A held build lock; released by `release()` or at the end of a `using` block. */
export interface BuildLock {
  /** True when another process held the lock first (its build may now be cached). */
  waited: boolean;
  release(): void;
  [Symbol.dispose](): void;
}

/**
 * Takes the lock of the build cache entry `dir`, waiting while another live
 * process holds it. `onWait` is called once when it has to wait.
 */
export function lockBuild(dir: string, onWait?: (holder: string) => void): BuildLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'lock');
  let waited = false;
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, 'owner'), `${hostname()} ${process.pid}\n`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (isStale(path)) {
      // Moved aside first, so two processes that both judged it stale do not delete each other's fresh lock.
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
        // A fresh lock taken between our check and the move goes back where it was.
        if (!isStale(aside)) renameSync(aside, path);
        else rmSync(aside, { recursive: true, force: true });
      } catch {
        // another process moved it first
      }
      continue;
    }
    if (!waited) {
      waited = true;
      let holder = 'another process';
      try {
        holder = readFileSync(join(path, 'owner'), 'utf8').trim().replace(' ', ' pid ');
      } catch {
        // just taken: name it generically
      }
      onWait?.(holder);
    }
    sleep(POLL_MS);
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    rmSync(path, { recursive: true, force: true });
  };
  return { waited, release, [Symbol.dispose]: release };
}

/**
 * Work to undo if the process stops early: kill a child's process group,
 * remove a temp directory or a half-written file. Whoever starts such a
 * thing registers its undo here and unregisters it when done. The CLI sets
 * the signal handler (`setInterruptHandler`), which is attached to
 * SIGINT/SIGTERM/SIGHUP only while something is registered: a command busy
 * with plain synchronous work keeps the default behaviour (stop at once),
 * since a JavaScript handler could not run before that work ends.
 */
import type { ChildProcess } from 'node:child_process';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const pending = new Set<() => void>();
let handler: ((sig: NodeJS.Signals) => void) | undefined;
let attached = false;

function attach(): void {
  const want = pending.size > 0 && handler !== undefined;
  if (want === attached) return;
  for (const sig of SIGNALS) {
    if (want) process.on(sig, handler!);
    else process.off(sig, handler!);
  }
  attached = want;
}

let exitHook = false;

/**
 * Registers `undo`; call the returned function once the work finished
 * normally. Whatever is still registered when the process exits normally is
 * undone then too (a test or a library caller that never ran the CLI).
 */
export function onInterrupt(undo: () => void): () => void {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', runInterruptActions);
  }
  pending.add(undo);
  attach();
  return () => {
    pending.delete(undo);
    attach();
  };
}

/** Runs every registered undo (newest first), each at most once; errors are ignored (best effort while stopping). */
export function runInterruptActions(): void {
  const all = [...pending].reverse();
  pending.clear();
  attach();
  for (const undo of all) {
    try {
      undo();
    } catch {
      // Stopping anyway: a failed undo must not keep the others from running.
    }
  }
}

/** The CLI's reaction to a signal while something is registered (it should run `runInterruptActions` and exit). */
export function setInterruptHandler(h: (sig: NodeJS.Signals) => void): void {
  if (attached) for (const sig of SIGNALS) process.off(sig, handler!);
  attached = false;
  handler = h;
  attach();
}

/** Kills a child started with `detached: true` and everything in its process group (a build's compilers, valgrind's tool). */
export function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL'); // no group (already gone, or not detached)
  }
}

/** Kills the child's process group after `ms`; `timedOut()` says whether it came to that, `cancel()` once it has ended. */
export function killAfter(child: ChildProcess, ms: number): { timedOut: () => boolean; cancel: () => void } {
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    killGroup(child);
  }, ms);
  return { timedOut: () => fired, cancel: () => clearTimeout(timer) };
}

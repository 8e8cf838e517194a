/**
 * Work to undo if the process stops early: kill a child's process group,
 * remove a temp directory or a half-written file. Whoever starts such a
 * thing registers its undo here and unregisters it when done; the CLI runs
 * what is left on SIGINT/SIGTERM (and on exit), so an interrupted command
 * leaves no process running and nothing half-made behind.
 */
const pending = new Set<() => void>();

/** Registers `undo`; call the returned function once the work finished normally. */
export function onInterrupt(undo: () => void): () => void {
  pending.add(undo);
  return () => {
    pending.delete(undo);
  };
}

/** Runs every registered undo (newest first), each at most once; errors are ignored (best effort while stopping). */
export function runInterruptActions(): void {
  const all = [...pending].reverse();
  pending.clear();
  for (const undo of all) {
    try {
      undo();
    } catch {
      // Stopping anyway: a failed undo must not keep the others from running.
    }
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Hermetic tests: every run gets a fresh cache for native code, plans and
 * builds, so a change to the planner, the driver or a build recipe is never
 * tested against what an earlier run (or the developer's own use) left in
 * ~/.cache/allocreplay. Test workers and the CLI processes they spawn
 * inherit the variable.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'allocreplay-test-cache-'));
  process.env.ALLOCREPLAY_CACHE = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}

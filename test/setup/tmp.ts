/**
 * vitest globalSetup: the whole run gets one private temp folder (TMPDIR,
 * so os.tmpdir() in every test worker, CLI child and driver points there),
 * removed when the run ends — tests and killed runs no longer leave
 * `allocreplay-*` directories in the system temp folder. Set
 * ALLOCREPLAY_KEEP_TEMP=1 to keep it (e.g. for a failing fuzz case's input).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'allocreplay-tests-'));
  process.env.TMPDIR = dir;
  return () => {
    if (process.env.ALLOCREPLAY_KEEP_TEMP) console.log(`temp files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
}

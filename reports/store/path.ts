/** Where the results database lives when no `--db` names it. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** `.allocreplay/results.sqlite` beside the nearest allocreplay.yaml, else under `cwd`. */
export function defaultDbPath(cwd = process.cwd()): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, 'allocreplay.yaml'))) return join(dir, '.allocreplay', 'results.sqlite');
    const up = dirname(dir);
    if (up === dir) return join(resolve(cwd), '.allocreplay', 'results.sqlite');
    dir = up;
  }
}

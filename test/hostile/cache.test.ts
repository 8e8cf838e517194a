/**
 * Issue 11: a damaged build-cache entry (a truncated result.json, as a kill
 * mid-write leaves) is treated as missing — the build runs again — never an
 * internal error on every later build of that configuration.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSource, tinyslabTarget } from '../../engine/index.js';
import { cli, tempDir } from '../helpers.js';

describe('build cache', () => {
  it('a truncated result.json is rebuilt, in the library and through the CLI', () => {
    const cache = tempDir('allocreplay-cache-');
    process.env.ALLOCREPLAY_CACHE = cache;
    const first = buildSource(tinyslabTarget(), { flags: { TS_STATS: '1' } });
    expect(first.status).toBe('ok');
    const result = join(cache, 'builds', first.key, 'result.json');
    const whole = readFileSync(result, 'utf8');
    expect(buildSource(tinyslabTarget(), { flags: { TS_STATS: '1' } }).cached).toBe(true);
    writeFileSync(result, whole.slice(0, whole.length >> 1));
    const again = buildSource(tinyslabTarget(), { flags: { TS_STATS: '1' } });
    expect(again.status).toBe('ok');
    expect(again.cached).toBeFalsy();
    writeFileSync(result, '{"status":');
    const r = cli(['target', 'build', 'tinyslab', '--set', 'TS_STATS=1'], { env: { ALLOCREPLAY_CACHE: cache } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/internal error/);
    // Only the kept incremental build directory stays (issue 12): no half-built private copies.
    expect(readdirSync(join(cache, 'worktrees')).filter((n) => !/-kept(\.lock)?$/.test(n))).toEqual([]);
  });
});

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockBuild } from '../../engine/build/lock.js';
import { run } from '../bisect/repo.js';
import { tempDir } from '../helpers.js';

describe('build cache lock', () => {
  it('three processes building one configuration at once: one builds, the others find it cached', async () => {
    const cache = join(tempDir(), 'cache');
    const args = ['target', 'build', 'tinyslab', '--set', 'TS_SOFT_CAP=11', '--json'];
    const results = await Promise.all([0, 1, 2].map(() => run(args, { ALLOCREPLAY_CACHE: cache })));
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const built = results.map((r) => JSON.parse(r.stdout) as { cached: boolean; artifactPath: string; key: string });
    expect(built.filter((b) => !b.cached)).toHaveLength(1);
    expect(new Set(built.map((b) => b.artifactPath)).size).toBe(1);
    expect(existsSync(join(cache, 'builds', built[0]!.key, 'lock'))).toBe(false);
  });

  it('a lock is waited for while its holder lives, and taken over once it is gone (a killed build)', () => {
    const dir = join(tempDir(), 'entry');
    mkdirSync(join(dir, 'lock'), { recursive: true });
    // The holder lives until it is killed, and it is killed only once the lock says it waits for it.
    const holder = spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
    writeFileSync(join(dir, 'lock', 'owner'), `${hostname()} ${holder.pid}\n`);
    const seen: string[] = [];
    const lock = lockBuild(dir, (h) => {
      seen.push(h);
      holder.kill('SIGKILL');
    });
    expect(lock.waited).toBe(true);
    expect(seen).toEqual([`${hostname()} pid ${holder.pid}`]);
    lock.release();
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });
});

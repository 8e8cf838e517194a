/**
 * Issue 11 fuzz suite, configs: 200 allocreplay.yaml files whose flag names,
 * values, defaults, axes and environment names may be shell payloads (and
 * whose text is sometimes mutated), each loaded and, when it loads, built
 * for real; a canary file shows whether any payload reached a shell.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSource, type SourceTarget } from '../../engine/index.js';
import { tempDir } from '../helpers.js';
import { PAYLOADS } from './configs.js';
import { countsLine, runFuzz } from './run.js';

const SEED = Number(process.env.ALLOCREPLAY_FUZZ_SEED ?? 11);
const dir = tempDir('allocreplay-fuzz-config-');

describe('fuzz: configs', () => {
  it('the canary works: the payloads do run when a build command hands them to sh', () => {
    const d = tempDir('allocreplay-fuzz-control-');
    mkdirSync(join(d, 'src'));
    writeFileSync(join(d, 'src', 'a.c'), 'int a;\n');
    process.env.ALLOCREPLAY_CACHE ??= join(d, 'cache');
    for (const [n, p] of [PAYLOADS[0]!, PAYLOADS[5]!, PAYLOADS[9]!].entries()) {
      process.env.FUZZ_CANARY = join(d, `CANARY${n}`);
      const t: SourceTarget = { name: 't', repo: join(d, 'src'), build: `echo ${p}; touch lib.so`, artifact: 'lib.so', flags: {} };
      expect(buildSource(t, { force: true }).status).toBe('ok');
      expect(existsSync(join(d, `CANARY${n}`)), p).toBe(true);
    }
  });

  it('200 hostile configs: loaded or refused in one line, built for real, and no payload ever runs', async () => {
    const o = await runFuzz({ kind: 'configs', seed: SEED, count: 200, dir, texts: [], zips: [], cliEvery: 0 }, { ALLOCREPLAY_CACHE: join(dir, 'cache') });
    console.log(countsLine('configs', 200, o));
    expect(o.hung).toBeUndefined();
    expect(o.bad).toEqual([]);
    expect(o.counts.loaded).toBeGreaterThan(20);
    expect((o.counts['build ok'] ?? 0) + (o.counts['build failed'] ?? 0)).toBeGreaterThan(20);
    expect(o.counts['refused (usage)']).toBeGreaterThan(20);
  });
});

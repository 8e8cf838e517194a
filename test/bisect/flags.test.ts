import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FlagEffect } from '../../engine/index.js';
import { generate } from '../../traces/index.js';
import { tempDir } from '../helpers.js';
import { makeWrapperRepo, run, WRAPPER } from './repo.js';

const dir = tempDir();
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
const trace = join(dir, 'rm.trace.msgpack');

beforeAll(() => {
  generate('random-mixed', { slots: 256, ops: 100_000 }, trace);
});

// The wrapper's flags are declared on the command line (an inline target has only the flags it declares).
const declare = (good: string): string[] => good.split(/\s+/).flatMap((a) => ['--flag', `${a.split('=')[0]}=define`]);
const bisectFlags = (repo: string, good: string, bad: string, extra: string[] = []): ReturnType<typeof run> =>
  run(['bisect', 'flags', '--repo', repo, ...WRAPPER, ...declare(good), '--good', good, '--bad', bad, '--trace', trace, '--db', join(dir, `${repo.split('/').pop()}.sqlite`), '--no-attribution', ...extra], env);

describe('bisect flags', () => {
  it('finds a planted two-flag interaction and reports both flags', async () => {
    // An allocator whose slowdown needs SLOW_A=1 and SLOW_B=1 together; SLOW_C does nothing.
    const { repo } = makeWrapperRepo(dir, 'interact', '#if SLOW_A && SLOW_B\n  for (int i = 0; i < 50; i++) sink += (unsigned long)i;\n#endif');
    const r = await bisectFlags(repo, 'SLOW_A=0 SLOW_B=0 SLOW_C=0', 'SLOW_A=1 SLOW_B=1 SLOW_C=1', ['--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.culprits).toEqual({ SLOW_A: '1', SLOW_B: '1' });
    // No flag does anything alone: no dominant flag, and every effect is exactly nothing.
    expect(r.out.dominant).toBeUndefined();
    expect((r.out.effects as FlagEffect[]).map((e) => [e.flag, e.deltaPct])).toEqual([
      ['SLOW_A', 0],
      ['SLOW_B', 0],
      ['SLOW_C', 0],
    ]);
  });

  it("prints each flag's own effect and names the dominant one, not the first over the threshold", async () => {
    // A_PAD costs a little, Z_SECURE a lot, M_NOP nothing. Split in halves, ddmin alone would stop at A_PAD.
    const { repo } = makeWrapperRepo(dir, 'dominant', '#if A_PAD\n  for (int i = 0; i < 8; i++) sink += (unsigned long)i;\n#endif\n#if Z_SECURE\n  for (int i = 0; i < 120; i++) sink += (unsigned long)i;\n#endif');
    const good = 'A_PAD=0 M_NOP=0 Z_SECURE=0';
    const bad = 'A_PAD=1 M_NOP=1 Z_SECURE=1';
    const r = await bisectFlags(repo, good, bad, ['--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.dominant).toBe('Z_SECURE');
    expect(r.out.culprits).toEqual({ Z_SECURE: '1' });
    const effects = Object.fromEntries((r.out.effects as FlagEffect[]).map((e) => [e.flag, e]));
    expect(Object.keys(effects)).toEqual(['A_PAD', 'M_NOP', 'Z_SECURE']);
    expect(effects.M_NOP!.deltaPct).toBe(0);
    expect(effects.M_NOP!.verdict).toBe('good');
    expect(effects.A_PAD!.deltaPct!).toBeGreaterThan(2);
    expect(effects.A_PAD!.verdict).toBe('bad');
    expect(effects.Z_SECURE!.deltaPct!).toBeGreaterThan(3 * effects.A_PAD!.deltaPct!);
    expect(effects.Z_SECURE!.from).toBe('0');
    expect(effects.Z_SECURE!.to).toBe('1');
    // The dominant flag alone explains most of the whole change.
    const share = r.out.share as { pct: number; explainsMost: boolean };
    expect(share.pct).toBeGreaterThan(80);
    expect(share.explainsMost).toBe(true);

    // The same bisection as text: every flag's line with its delta, and the dominant one named.
    const text = await bisectFlags(repo, good, bad);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`A_PAD\\s+0 → 1\\s+[\\d,]+\\s+\\+${effects.A_PAD!.deltaPct!.toFixed(2)}%`));
    expect(text.stdout).toMatch(/M_NOP\s+0 → 1\s+[\d,]+\s+0\.00%/);
    expect(text.stdout).toMatch(/Z_SECURE\s+0 → 1\s+[\d,]+\s+\+[\d.]+%\s+dominant/);
    expect(text.stdout).toMatch(/dominant flag: Z_SECURE=1 \(\+[\d.]+% on its own\)/);
    expect(text.stdout).toMatch(new RegExp(`the change Z_SECURE=1 explains ${share.pct.toFixed(0)}% of the whole change`));
  });

  it('refuses reversed assignments with a hint, and --improvement bisects them', async () => {
    const { repo } = makeWrapperRepo(dir, 'faster-flags', '#if !FAST\n  for (int i = 0; i < 60; i++) sink += (unsigned long)i;\n#endif');
    const reversed = await bisectFlags(repo, 'FAST=0 OTHER=0', 'FAST=1 OTHER=1');
    expect(reversed.status).toBe(2);
    expect(reversed.stderr).toMatch(/^allocreplay: the bad end is better, not worse: .* \(-[\d.]+%, threshold 2%\) \(to find the change that made it better, add --improvement/m);
    expect(reversed.stderr).not.toMatch(/internal error|TypeError/);
    const r = await bisectFlags(repo, 'FAST=0 OTHER=0', 'FAST=1 OTHER=1', ['--improvement', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.direction).toBe('improvement');
    expect(r.out.culprits).toEqual({ FAST: '1' });
    expect(r.out.dominant).toBe('FAST');
  });
});

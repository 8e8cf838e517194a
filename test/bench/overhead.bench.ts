/**
 * Driver overhead: serial replay of a 2M-event trace by the driver vs the
 * smallest hand-written C loop making the same calls (overhead_loop.c,
 * compiled here), under glibc and under mimalloc, alternating, in one run.
 * Goal: driver ns/op ÷ loop ns/op ≤ 1.05. The loop keeps its objects in
 * reused slots, as the driver's streamed plan does (a per-object slot table
 * would make the reference, not the driver, pay for cache misses).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { listTargets, planFor, resolveTarget, runReplay } from '../../engine/index.js';
import { compileNative, generate, packagePath } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

const ROUNDS = 5;
const REPS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export default async function bench(): Promise<void> {
  const dir = tempDir('allocreplay-bench-');
  const trace = join(dir, 'rm.trace.msgpack');
  generate('random-mixed', { slots: 256, ops: 2_000_000, seed: 42 }, trace);
  const plan = planFor(trace);
  const loop = compileNative({ name: 'overhead-loop', sources: [packagePath('test', 'bench', 'overhead_loop.c')] });
  const targets = ['system', ...(listTargets().some((t) => t.name === 'mimalloc' && t.available) ? ['mimalloc'] : [])];
  for (const name of targets) {
    const target = resolveTarget(name);
    const driver: number[] = [];
    const minimal: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const d = await runReplay(plan, target, { mode: 'serial', touch: 'none', repeat: REPS, warmup: 1, metric: 'time', timeoutMs: 120_000 });
      if (d.status !== 'ok') throw new Error(`driver run ${d.status}: ${d.error}`);
      driver.push(Math.min(...d.samples.map((s) => s.nsPerOp)));
      const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
      if (target.library) env.LD_PRELOAD = target.library;
      const l = spawnSync('setarch', ['-R', loop, plan.planPath, String(REPS)], { env, encoding: 'utf8' });
      minimal.push(Number(l.stdout.trim()));
    }
    const ratio = median(driver) / median(minimal);
    console.log(`${name.padEnd(9)} driver ${median(driver).toFixed(2)} ns/op, minimal loop ${median(minimal).toFixed(2)} ns/op: ratio ${ratio.toFixed(3)} (goal ≤ 1.05: ${ratio <= 1.05 ? 'met' : 'MISSED'})`);
  }
}

if (process.argv[1]?.endsWith('overhead.bench.js')) await bench();

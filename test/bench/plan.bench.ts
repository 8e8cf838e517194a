/**
 * Traces at scale (issue 16, items 3 and 4), each figure beside a reference
 * measured in the same run:
 * - `trace info` and `trace validate` peak RSS on a 40M-event trace (goal
 *   ≤ 256 MiB), beside the trace's size on disk;
 * - planning speed in events/s (goal ≥ 10M/s), beside a plain read of the
 *   trace's bytes;
 * - the first `replay` of a 30M-event trace (plans it) vs the second (cached
 *   plan): goal ≤ 3×;
 * - a 100M-event trace generated, planned and replayed end to end.
 * ALLOCREPLAY_BENCH_SCALE scales every size (default 1; 0.05 for a quick run).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { planFor } from '../../engine/index.js';
import { generate, packagePath } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

const SCALE = Number(process.env.ALLOCREPLAY_BENCH_SCALE ?? '1');
const size = (n: number): number => Math.max(10_000, Math.round(n * SCALE));

/** Wall seconds of f, and the CPU seconds (user + sys) it took. */
function timed<T>(f: () => T): [T, number, number] {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  const r = f();
  const u = process.cpuUsage(c);
  return [r, Number(process.hrtime.bigint() - t) / 1e9, (u.user + u.system) / 1e6];
}

/** Runs the CLI under /usr/bin/time: wall seconds and peak RSS in KiB. */
function cliMeasured(args: string[], env: Record<string, string>): { seconds: number; cpu: number; rssKiB: number; status: number; stderr: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, packagePath('cli', 'bin', 'run.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const lines = r.stderr.trim().split('\n');
  const [rss, user, sys] = (lines.at(-1) ?? '').split(' ').map(Number);
  return { seconds, cpu: user! + sys!, rssKiB: rss!, status: r.status ?? -1, stderr: lines.slice(0, -1).join('\n') };
}

function gen(path: string, events: number): number {
  const [, s] = timed(() => generate('random-mixed', { slots: 8192, ops: events, seed: 16 }, path));
  return s;
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const mevs = (events: number, s: number): string => `${(events / s / 1e6).toFixed(2)}M events/s`;

export default async function bench(): Promise<void> {
  const dir = tempDir('allocreplay-bench-');
  const cache = tempDir('allocreplay-bench-cache-');
  const env = { ALLOCREPLAY_CACHE: cache };
  process.env.ALLOCREPLAY_CACHE = cache;
  try {
    // 1. Peak RSS of info and validate.
    const n40 = size(40_000_000);
    const t40 = join(dir, 't40.trace.msgpack');
    const g40 = gen(t40, n40);
    console.log(`trace of ${n40.toLocaleString('en-US')} events: ${(statSync(t40).size / 2 ** 20).toFixed(0)} MiB on disk, generated in ${g40.toFixed(1)} s (${mevs(n40, g40)})`);
    for (const cmd of ['info', 'validate']) {
      const r = cliMeasured(['trace', cmd, t40], env);
      if (r.status !== 0) throw new Error(`trace ${cmd} failed: ${r.stderr}`);
      console.log(`trace ${cmd.padEnd(8)} peak RSS ${mib(r.rssKiB)} (${(r.rssKiB / 1024 / (statSync(t40).size / 2 ** 20)).toFixed(2)}× the file), ${r.seconds.toFixed(1)} s = ${mevs(n40, r.seconds)} (CPU ${r.cpu.toFixed(1)} s)   goal ≤ 256 MiB: ${r.rssKiB <= 256 * 1024 ? 'met' : 'MISSED'}`);
    }

    // 2. Planning speed, in-process, beside a plain read of the same bytes.
    const [, plain] = timed(() => readFileSync(t40));
    const uptime = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`load average ${uptime} on ${availableParallelism()} CPUs (wall figures on a busy machine are slower than CPU figures)`);
    const [plan, planning, planCpu] = timed(() => planFor(t40));
    const planBytes = statSync(plan.planPath).size;
    console.log(`plain read of the trace's bytes: ${(plain * 1000).toFixed(0)} ms`);
    console.log(`planning: ${planning.toFixed(2)} s = ${mevs(n40, planning)} (CPU ${planCpu.toFixed(2)} s = ${mevs(n40, planCpu)} of CPU; ${(planning / plain).toFixed(1)}× the plain read); plan ${(planBytes / 2 ** 20).toFixed(0)} MiB = ${(planBytes / plan.ops).toFixed(1)} bytes/op   goal ≥ 10M events/s: ${n40 / planning >= 10e6 ? 'met' : 'MISSED'}`);
    rmSync(t40);

    // 3. First (plans) vs second (cached) replay of a 30M-event trace, whole commands.
    const n30 = size(30_000_000);
    const t30 = join(dir, 't30.trace.msgpack');
    gen(t30, n30);
    const replay = ['replay', t30, '--target', 'system', '--repeat', '1', '--db', join(dir, 'r.sqlite')];
    // Compile the driver first (a tiny trace), so the first replay's extra time is planning alone.
    const tiny = join(dir, 'tiny.trace.msgpack');
    gen(tiny, 1000);
    cliMeasured(['replay', tiny, '--target', 'system', '--repeat', '1', '--db', join(dir, 'r.sqlite')], env);
    const first = cliMeasured(replay, env);
    const second = cliMeasured(replay, env);
    if (first.status !== 0 || second.status !== 0) throw new Error(`replay failed: ${first.stderr} ${second.stderr}`);
    console.log(`replay of ${n30.toLocaleString('en-US')} events: first ${first.seconds.toFixed(2)} s (plans; CPU ${first.cpu.toFixed(2)} s; ${mib(first.rssKiB)}), second ${second.seconds.toFixed(2)} s (cached plan; CPU ${second.cpu.toFixed(2)} s) = ${(first.seconds / second.seconds).toFixed(2)}×   goal ≤ 3×: ${first.seconds / second.seconds <= 3 ? 'met' : 'MISSED'}`);
    rmSync(t30);

    // 4. 100M events end to end.
    const n100 = size(100_000_000);
    const t100 = join(dir, 't100.trace.msgpack');
    const g100 = gen(t100, n100);
    const e2e = cliMeasured(['replay', t100, '--target', 'system', '--repeat', '1', '--db', join(dir, 'r.sqlite'), '--json'], env);
    if (e2e.status !== 0) throw new Error(`replay of ${n100} events failed: ${e2e.stderr}`);
    console.log(`${n100.toLocaleString('en-US')} events end to end: generate ${g100.toFixed(1)} s, plan + replay (whole command) ${e2e.seconds.toFixed(1)} s (CPU ${e2e.cpu.toFixed(1)} s), peak RSS ${mib(e2e.rssKiB)}; trace ${(statSync(t100).size / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('plan.bench.js')) await bench();

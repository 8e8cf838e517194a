/**
 * Replay at scale (issue 23): the whole `replay` command against its timed
 * region, uncached (the trace planned first) and cached, and the peak memory
 * of the whole process tree (the CLI and the driver together) for a long
 * trace, beside what an expanded plan would hold.
 *
 * Goals: whole command ≤ 1.5 × its timed region for tens of millions of
 * events; peak memory of the tree ≤ 512 MiB for 100M events.
 *
 * The reference is the timed region of the same run (the driver's wall ns
 * of its measured repetition). A replay also makes one untimed checking
 * pass, so the line shows the driver's passes too. Sizes:
 * ALLOCREPLAY_BENCH_EVENTS (default 40M, the ratio) and
 * ALLOCREPLAY_BENCH_BIG_EVENTS (default 100M, the memory; 0 skips it).
 * Both lines are measured on a generated trace and on a recorded Python
 * loop of the same length.
 *
 * Planning alone (the native planner, engine/native/planner.c, as planFor
 * runs it) is set beside the time `cat` takes to read the same file, both
 * with the file in the page cache: the planner's goal is the speed of
 * reading the file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { planFor, RECORDED_REPLAY } from '../../engine/index.js';
import { generate, openTrace, packagePath } from '../../traces/index.js';
import { realPython, tempDir } from '../helpers.js';
import { fastest } from './timing.js';

const MiB = 2 ** 20;

interface Measured {
  wallS: number;
  timedS: number;
  /** The tree's peak resident memory: the sum over its processes, sampled every 50 ms. */
  peakTreeMiB: number;
  /** The largest single process's peak (wait4 rusage, as /usr/bin/time -v reports it). */
  peakOneMiB: number;
}

/** Resident KiB of a process and its parent, or undefined once it is gone. */
function procInfo(pid: number): { ppid: number; rssKiB: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { ppid, rssKiB: m ? Number(m[1]) : 0 };
  } catch {
    return undefined;
  }
}

/** Sum of the resident memory of `root` and every descendant, KiB. */
function treeRssKiB(root: number): number {
  const all = new Map<number, { ppid: number; rssKiB: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = procInfo(Number(name));
    if (info) all.set(Number(name), info);
  }
  const inTree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, info] of all)
      if (!inTree.has(pid) && inTree.has(info.ppid)) {
        inTree.add(pid);
        grew = true;
      }
  }
  let sum = 0;
  for (const pid of inTree) sum += all.get(pid)?.rssKiB ?? 0;
  return sum;
}

/** One `replay` command under /usr/bin/time -v, its tree's memory sampled while it runs. */
async function replay(trace: string, events: number, env: Record<string, string>, db: string): Promise<Measured> {
  const args = ['-v', process.execPath, packagePath('cli', 'bin', 'run.js'), 'replay', trace, '-t', 'system', '--repeat', '1', '--warmup', '0', '--db', db, '--json'];
  const t0 = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let peak = 0;
  const timer = setInterval(() => {
    if (child.pid !== undefined) peak = Math.max(peak, treeRssKiB(child.pid));
  }, 50);
  const code = await new Promise<number | null>((res) => child.on('close', res));
  clearInterval(timer);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (code !== 0) throw new Error(`replay exited ${code}: ${err.slice(-400)}`);
  const rows = JSON.parse(out) as { status: string; nsPerOp: number }[];
  if (rows[0]?.status !== 'ok') throw new Error(`replay: ${JSON.stringify(rows[0])}`);
  const one = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
  return { wallS, timedS: (rows[0].nsPerOp * events) / 1e9, peakTreeMiB: (peak * 1024) / MiB, peakOneMiB: one ? (Number(one[1]) * 1024) / MiB : Number.NaN };
}


/** Planning `trace` (nothing cached) beside reading its bytes with cat. */
function planningLine(trace: string, events: number, cache: string): string {
  const devNull = openSync('/dev/null', 'w');
  const cat = fastest(3, () => {
    const r = spawnSync('cat', [trace], { stdio: ['ignore', devNull, 'inherit'] });
    if (r.status !== 0) throw new Error('cat failed');
  });
  closeSync(devNull);
  const saved = process.env.ALLOCREPLAY_CACHE;
  process.env.ALLOCREPLAY_CACHE = cache;
  try {
    const plan = fastest(2, () => {
      rmSync(join(cache, 'plans'), { recursive: true, force: true });
      planFor(trace);
    });
    rmSync(join(cache, 'plans'), { recursive: true, force: true });
    const mev = (s: number): string => `${(events / s / 1e6).toFixed(1)}M events/s`;
    return `planning ${plan.toFixed(2)} s = ${mev(plan)}; cat of the trace ${cat.toFixed(2)} s = ${mev(cat)}: planning takes ${(plan / cat).toFixed(1)}× the read (goal: close to 1)`;
  } finally {
    if (saved === undefined) delete process.env.ALLOCREPLAY_CACHE;
    else process.env.ALLOCREPLAY_CACHE = saved;
  }
}

function line(what: string, m: Measured): string {
  const ratio = m.wallS / m.timedS;
  return `${what.padEnd(21)} whole command ${m.wallS.toFixed(2)} s, timed region ${m.timedS.toFixed(2)} s: ${ratio.toFixed(2)}× (goal ≤ 1.5: ${ratio <= 1.5 ? 'met' : 'MISSED'}; ${(m.wallS / (2 * m.timedS)).toFixed(2)}× the driver's two passes, checking + timed); tree peak ${m.peakTreeMiB.toFixed(0)} MiB`;
}

/**
 * The same two lines for a recorded real program: a Python loop making
 * `events` allocation events (one malloc and one free per turn), replayed
 * with the options a recorded trace gets by default (pace recorded, touch
 * program), so its timed region holds the program's modelled work too.
 */
async function recordedLines(dir: string, events: number, env: Record<string, string>): Promise<void> {
  const py = realPython();
  if (!py) {
    console.log('recorded python loop: skipped (python3 not installed)');
    return;
  }
  const trace = join(dir, 'py.trace.msgpack');
  const r = spawnSync(process.execPath, [packagePath('cli', 'bin', 'run.js'), 'record', '-o', trace, '--', py, '-c', `for i in range(${Math.ceil(events / 2)}): b = bytearray(600)`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`record failed: ${r.stderr.slice(-400)}`);
  const reader = openTrace(trace);
  reader.scan();
  const recorded = reader.footer!.events;
  console.log(`recorded python loop, ${recorded.toLocaleString('en-US')} events, system allocator, --repeat 1 --warmup 0 (pace ${RECORDED_REPLAY.pace}, touch ${RECORDED_REPLAY.touch}: a recording's defaults)`);
  const db = join(dir, 'py.sqlite');
  // The first replay of a recorded trace also calibrates its pace on this machine (once, kept in the database).
  console.log(line('uncached, calibrating', await replay(trace, recorded, env, db)));
  console.log(line('cached', await replay(trace, recorded, env, db)));
  rmSync(join(env.ALLOCREPLAY_CACHE!, 'plans'), { recursive: true, force: true });
  console.log(line('uncached, calibrated', await replay(trace, recorded, env, db)));
  rmSync(trace);
}

export default async function bench(): Promise<void> {
  const events = Number(process.env.ALLOCREPLAY_BENCH_EVENTS ?? 40_000_000);
  const big = Number(process.env.ALLOCREPLAY_BENCH_BIG_EVENTS ?? 100_000_000);
  const dir = tempDir('allocreplay-bench-stream-');
  try {
    const trace = join(dir, 'rm.trace.msgpack');
    generate('random-mixed', { slots: 256, ops: events, seed: 42 }, trace);
    const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
    // The driver compiled once beforehand (a fresh cache would build it inside the first command), then no plans.
    const warm = join(dir, 'warm.trace.msgpack');
    generate('random-mixed', { slots: 16, ops: 1000, seed: 1 }, warm);
    await replay(warm, 1000, env, join(dir, 'warm.sqlite'));
    rmSync(join(dir, 'cache', 'plans'), { recursive: true, force: true });
    console.log(`${(events / 1e6).toFixed(0)}M events, random-mixed, 256 slots, system allocator, --repeat 1 --warmup 0`);
    console.log(planningLine(trace, events, join(dir, 'cache')));
    console.log(line('uncached', await replay(trace, events, env, join(dir, 'r.sqlite'))));
    console.log(line('cached', await replay(trace, events, env, join(dir, 'r.sqlite'))));
    rmSync(trace);
    await recordedLines(dir, events, env);
    if (big > 0) {
      const bigTrace = join(dir, 'big.trace.msgpack');
      generate('random-mixed', { slots: 256, ops: big, seed: 43 }, bigTrace);
      rmSync(join(dir, 'cache', 'plans'), { recursive: true, force: true });
      const m = await replay(bigTrace, big, env, join(dir, 'big.sqlite'));
      const expandedMiB = (big * 24) / MiB;
      console.log(
        `${(big / 1e6).toFixed(0)}M events: tree peak ${m.peakTreeMiB.toFixed(0)} MiB sampled (largest process ${m.peakOneMiB.toFixed(0)} MiB by wait4) ` +
          `vs ${expandedMiB.toFixed(0)} MiB for the expanded ops alone (goal ≤ 512 MiB: ${m.peakTreeMiB <= 512 ? 'met' : 'MISSED'}); ${line('', m).trim()}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('stream.bench.js')) await bench();

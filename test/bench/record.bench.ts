/**
 * Recording at the scale of real programs, every figure beside a reference
 * measured in the same run:
 *
 * - overhead: the whole `record` command ÷ the plain run, on a Python loop
 *   making ≥ 40M allocation events with a small live set (goal ≤ 1.3×), and
 *   on perl building a 3M-entry hash with heaptrack's ratio beside ours
 *   when heaptrack is installed (ours must be lower);
 * - the converter's peak RSS on both (goal ≤ 256 MiB);
 * - a 20M-event recording of 8 threads with cross-thread frees: every event
 *   present (the program counts its own calls), replay in threads mode ok.
 *
 * Sizes (env): ALLOCREPLAY_BENCH_RECORD_EVENTS (40000000),
 * ALLOCREPLAY_BENCH_RECORD_PERL_ENTRIES (3000000),
 * ALLOCREPLAY_BENCH_RECORD_THREADED_EVENTS (20000000),
 * ALLOCREPLAY_BENCH_RECORD_RUNS (3: medians of alternating runs).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileNative, Op, openTrace, packagePath } from '../../traces/index.js';
import { realPython, tempDir } from '../helpers.js';

const size = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
};
const EVENTS = size('ALLOCREPLAY_BENCH_RECORD_EVENTS', 40_000_000);
const PERL_ENTRIES = size('ALLOCREPLAY_BENCH_RECORD_PERL_ENTRIES', 3_000_000);
const THREADED = size('ALLOCREPLAY_BENCH_RECORD_THREADED_EVENTS', 20_000_000);
const RUNS = size('ALLOCREPLAY_BENCH_RECORD_RUNS', 3);
const CLI = packagePath('cli', 'bin', 'run.js');

interface Summary {
  converterPeakRssKiB: number;
  traces: { events: number; lostRecords: number }[];
}

/** CPU ms (user + system) of the children this process has waited for, with all their descendants (/proc/self/stat). */
function childrenCpuMs(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime are fields 16 and 17 of stat (13 and 14 after the command name), in clock ticks (100 Hz on Linux).
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** Wall ms and CPU ms of a command (CPU: every process it ran, so the converter too). */
function timed(cmd: string, args: string[]): { ms: number; cpuMs: number; stdout: string } {
  const t = process.hrtime.bigint();
  const c = childrenCpuMs();
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}… failed (${r.status}): ${r.stderr.slice(-400)}`);
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, cpuMs: childrenCpuMs() - c, stdout: r.stdout };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const goal = (ok: boolean): string => (ok ? 'met' : 'MISSED');

interface Overhead {
  plain: number;
  recorded: number;
  plainCpu: number;
  recordedCpu: number;
  summary: Summary;
}

/** Plain and recorded runs alternate; returns medians (wall and CPU ms) and the last summary. */
function overhead(dir: string, name: string, cmd: string, args: string[]): Overhead {
  const plain: ReturnType<typeof timed>[] = [];
  const recorded: ReturnType<typeof timed>[] = [];
  for (let i = 0; i < RUNS; i++) {
    plain.push(timed(cmd, args));
    recorded.push(timed(process.execPath, [CLI, 'record', '--json', '-o', join(dir, `${name}.trace.msgpack`), '--', cmd, ...args]));
  }
  return {
    plain: median(plain.map((r) => r.ms)),
    recorded: median(recorded.map((r) => r.ms)),
    plainCpu: median(plain.map((r) => r.cpuMs)),
    recordedCpu: median(recorded.map((r) => r.cpuMs)),
    summary: JSON.parse(recorded.at(-1)!.stdout) as Summary,
  };
}

/** CPU beside wall: on a busy machine the wall ratio mostly measures the other load. */
const cpu = (o: Overhead): string => `CPU ${o.plainCpu.toFixed(0)} → ${o.recordedCpu.toFixed(0)} ms (${(o.recordedCpu / o.plainCpu).toFixed(2)}×, recorder + converter + CLI start-up)`;

function loopBench(dir: string): number {
  const py = realPython();
  if (!py) {
    console.log('python loop: skipped (python3 not installed)');
    return 0;
  }
  // bytearray(600) is above pymalloc's limit: one malloc and one free per turn.
  const o = overhead(dir, 'loop', py, ['-c', `for i in range(${Math.ceil(EVENTS / 2)}): b = bytearray(600)`]);
  const t = o.summary.traces[0]!;
  const ratio = o.recorded / o.plain;
  console.log(
    `python loop, ${t.events.toLocaleString('en-US')} events: plain ${o.plain.toFixed(0)} ms, whole record command ${o.recorded.toFixed(0)} ms: ` +
      `ratio ${ratio.toFixed(2)} (goal ≤ 1.3: ${goal(ratio <= 1.3)}); ${cpu(o)}; converter peak RSS ${(o.summary.converterPeakRssKiB / 1024).toFixed(0)} MiB; lost ${t.lostRecords}`,
  );
  return o.summary.converterPeakRssKiB;
}

function perlBench(dir: string): number {
  const args = ['-e', `my %h; $h{$_} = "v$_" for 1..${PERL_ENTRIES};`];
  const o = overhead(dir, 'perl', 'perl', args);
  const t = o.summary.traces[0]!;
  const ratio = o.recorded / o.plain;
  let beside = 'heaptrack: not installed (apt-get install heaptrack to compare)';
  if (spawnSync('heaptrack', ['--version'], { stdio: 'ignore' }).status === 0) {
    const ht: number[] = [];
    for (let i = 0; i < RUNS; i++) ht.push(timed('heaptrack', ['-o', join(dir, `ht${i}`), 'perl', ...args]).ms);
    const htRatio = median(ht) / o.plain;
    beside = `heaptrack ${median(ht).toFixed(0)} ms: ratio ${htRatio.toFixed(2)} (ours lower: ${goal(ratio < htRatio)})`;
  }
  console.log(
    `perl ${PERL_ENTRIES.toLocaleString('en-US')}-entry hash, ${t.events.toLocaleString('en-US')} events: plain ${o.plain.toFixed(0)} ms, whole record command ${o.recorded.toFixed(0)} ms: ` +
      `ratio ${ratio.toFixed(2)}; ${beside}; ${cpu(o)}; converter peak RSS ${(o.summary.converterPeakRssKiB / 1024).toFixed(0)} MiB`,
  );
  return o.summary.converterPeakRssKiB;
}

/** 8 threads with cross-thread frees (test/record/prog.c stress): every call the program counted is in the trace. */
function threadedBench(dir: string): void {
  const prog = compileNative({ name: 'record-prog', sources: [packagePath('test', 'record', 'prog.c')], ldflags: ['-lpthread'] });
  const out = join(dir, 'threads.trace.msgpack');
  const perThread = Math.ceil(THREADED / 8);
  const r = timed(process.execPath, [CLI, 'record', '--json', '-o', out, '--', prog, 'stress', '8', String(perThread)]);
  const own = r.stdout.split('\n').find((l) => l.startsWith('parent '))!;
  const [mallocs, frees] = own.split(' ').slice(1).map(Number) as [number, number];
  const summary = JSON.parse(r.stdout.split('\n').filter((l) => !/^(parent|child) /.test(l)).join('\n')) as Summary;
  // The program's own blocks are 3000..3999 bytes; follow their ids to their frees.
  const mine = new Set<number>();
  let seenMallocs = 0;
  let seenFrees = 0;
  for (const c of openTrace(out).chunks()) {
    for (let i = 0; i < c.length; i++) {
      const op = c.op[i]!;
      if (op === Op.malloc && c.size[i]! >= 3000 && c.size[i]! < 4000 && c.object[i]) {
        mine.add(c.object[i]!);
        seenMallocs++;
      } else if (op === Op.free && mine.delete(c.object[i]!)) seenFrees++;
    }
  }
  const every = seenMallocs === mallocs && seenFrees === frees;
  const rep = timed(process.execPath, [CLI, 'replay', out, '-t', 'system', '--mode', 'threads', '--repeat', '1', '--warmup', '0', '--db', join(dir, 'r.sqlite'), '--json']);
  const status = (JSON.parse(rep.stdout) as { status: string }[])[0]!.status;
  console.log(
    `8 threads, ${summary.traces[0]!.events.toLocaleString('en-US')} events in ${r.ms.toFixed(0)} ms: program counted ${mallocs} mallocs ${frees} frees, trace has ${seenMallocs} ${seenFrees} ` +
      `(every event present: ${goal(every)}); lost ${summary.traces[0]!.lostRecords}; threads-mode replay ${status} (${goal(status === 'ok')}); converter peak RSS ${(summary.converterPeakRssKiB / 1024).toFixed(0)} MiB`,
  );
}

export default async function bench(): Promise<void> {
  const dir = tempDir('allocreplay-rec-bench-');
  const peak = Math.max(loopBench(dir), perlBench(dir));
  console.log(`converter peak RSS over both: ${(peak / 1024).toFixed(0)} MiB (goal ≤ 256 MiB: ${goal(peak <= 256 * 1024)})`);
  threadedBench(dir);
}

if (process.argv[1]?.endsWith('record.bench.js')) await bench();

/**
 * `import aosp` of a 2.45M-line Android memory_replay dump (the size of a
 * surfaceflinger dump; generated here from a larson trace with 8 threads) as
 * a whole command — start-up and the native importer included — beside two
 * references measured in the same run: Node's own start-up (`node -e 0`) and
 * a plain scan of the dump's bytes (read + count lines). Best of 3 wall and
 * CPU times each (CPU: the whole process tree, what a loaded machine
 * inflates least). Also node's peak RSS, and the trace's size beside the
 * dump zipped. Goals (issues 16, 23): whole command ≤ 1.0 s; ≤ 500 MB;
 * trace ≤ zipped dump.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { exportAosp, generate, packagePath } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

/** Preloaded into the measured process: reports its own peak RSS (KiB) on stderr as it exits. */
const REPORT_RSS = `data:text/javascript,process.on('exit', () => { process.stderr.write('\\nbench-max-rss-kib ' + process.resourceUsage().maxRSS + '\\n'); });`;

/**
 * CPU time (ms, user + system) of this process's children that have been
 * waited for (/proc/self/stat cutime + cstime, in clock ticks of 10 ms): a
 * measured command's, its own children (the native importer) included.
 */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of stat(5), counted from the state (field 3) here.
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
}

/**
 * Best-of-n wall time (ms) of `node ARGS…`, start-up included; the least CPU
 * time (ms, user + system of the whole process tree: what a busy machine
 * inflates least) and the peak RSS (KiB) of node in its last run.
 */
export function bestOf(n: number, args: string[]): { ms: number; cpuMs: number; maxRssKiB: number } {
  let best = { ms: Infinity, cpuMs: Infinity, maxRssKiB: 0 };
  for (let i = 0; i < n; i++) {
    const cpu0 = childrenCpuMs();
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['--import', REPORT_RSS, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const cpuMs = childrenCpuMs() - cpu0;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    const m = /bench-max-rss-kib (\d+)/.exec(r.stderr);
    best = { ms: Math.min(best.ms, ms), cpuMs: Math.min(best.cpuMs, cpuMs), maxRssKiB: Number(m?.[1] ?? 0) };
  }
  return best;
}

export default async function bench(): Promise<void> {
  const dir = tempDir('allocreplay-import-bench-');
  try {
    await measure(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(dir: string): Promise<void> {
  const src = join(dir, 'src.trace.msgpack');
  generate('larson', { threads: 8, ops: 2_450_000, slots: 2000 }, src);
  const dump = join(dir, 'dump.txt');
  exportAosp(src, dump);
  const out = join(dir, 'imported.trace.msgpack');
  const cli = packagePath('cli', 'bin', 'run.js');
  const start = bestOf(5, ['-e', '0']);
  const scan = bestOf(3, ['-e', `const b = require('fs').readFileSync(${JSON.stringify(dump)}); let n = 0, p = 0; while ((p = b.indexOf(10, p) + 1) > 0) n++;`]);
  const imp = bestOf(3, [cli, 'import', 'aosp', dump, '-o', out]);
  let zipped: number;
  try {
    execFileSync('zip', ['-q', '-j', join(dir, 'dump.zip'), dump]);
    zipped = statSync(join(dir, 'dump.zip')).size;
  } catch {
    zipped = deflateRawSync(readFileSync(dump)).length;
  }
  const traceBytes = statSync(out).size;
  const lines = readFileSync(dump, 'latin1').split('\n').length - 1;
  console.log(`aosp dump: ${lines.toLocaleString('en-US')} lines, ${(statSync(dump).size / 2 ** 20).toFixed(1)} MiB`);
  console.log(`references: node -e 0 ${start.ms.toFixed(0)} ms (CPU ${start.cpuMs.toFixed(0)} ms); plain scan of the bytes (node start-up included) ${scan.ms.toFixed(0)} ms (CPU ${scan.cpuMs.toFixed(0)} ms)`);
  console.log(
    `allocreplay import aosp (whole command): ${imp.ms.toFixed(0)} ms = ${(imp.ms / scan.ms).toFixed(1)}× the plain scan; CPU ${imp.cpuMs.toFixed(0)} ms = ${(imp.cpuMs / scan.cpuMs).toFixed(1)}× (goal ≤ 1000 ms: ${imp.ms <= 1000 ? 'met' : 'MISSED'}), peak RSS of node ${(imp.maxRssKiB / 1024).toFixed(0)} MiB (goal ≤ 500 MB: ${imp.maxRssKiB * 1024 <= 500e6 ? 'met' : 'MISSED'})`,
  );
  console.log(`size: trace ${(traceBytes / 2 ** 20).toFixed(2)} MiB vs dump zipped ${(zipped / 2 ** 20).toFixed(2)} MiB: ratio ${(traceBytes / zipped).toFixed(2)} (goal ≤ 1: ${traceBytes <= zipped ? 'met' : 'MISSED'})`);
}

if (process.argv[1]?.endsWith('import.bench.js')) await bench();

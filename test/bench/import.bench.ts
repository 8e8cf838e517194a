/**
 * Importing a 2.5M-line Android memory_replay dump (generated here from a
 * larson trace): time and peak memory of the import in a child process,
 * beside a plain read of the dump's bytes in the same run; the trace's size
 * beside the dump zipped. Goals: ≤ 1 s, ≤ 500 MB, trace ≤ zipped dump.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { exportAosp, generate, packagePath } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

export default async function bench(): Promise<void> {
  const dir = tempDir('allocreplay-import-bench-');
  const src = join(dir, 'src.trace.msgpack');
  generate('larson', { threads: 8, ops: 2_500_000, slots: 2000 }, src);
  const dump = join(dir, 'dump.txt');
  exportAosp(src, dump);
  const t0 = process.hrtime.bigint();
  readFileSync(dump);
  const plainMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const out = join(dir, 'imported.trace.msgpack');
  const script = `import { importAosp } from ${JSON.stringify(packagePath('dist', 'traces', 'index.js'))};
const t = process.hrtime.bigint();
await importAosp(${JSON.stringify(dump)}, ${JSON.stringify(out)});
console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t) / 1e6, maxRssKiB: process.resourceUsage().maxRSS }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const m = JSON.parse(r.stdout.trim()) as { ms: number; maxRssKiB: number };
  let zipped: number;
  try {
    execFileSync('zip', ['-q', '-j', join(dir, 'dump.zip'), dump]);
    zipped = statSync(join(dir, 'dump.zip')).size;
  } catch {
    zipped = deflateRawSync(readFileSync(dump)).length;
  }
  const traceBytes = statSync(out).size;
  const lines = readFileSync(dump, 'latin1').split('\n').length - 1;
  console.log(`aosp dump: ${lines.toLocaleString('en-US')} lines, ${(statSync(dump).size / 2 ** 20).toFixed(1)} MiB; plain read ${plainMs.toFixed(0)} ms`);
  console.log(`import: ${m.ms.toFixed(0)} ms (${(m.ms / plainMs).toFixed(1)}× the plain read; goal ≤ 1000 ms: ${m.ms <= 1000 ? 'met' : 'MISSED'}), peak RSS ${(m.maxRssKiB / 1024).toFixed(0)} MiB (goal ≤ 500 MB: ${m.maxRssKiB * 1024 <= 500e6 ? 'met' : 'MISSED'})`);
  console.log(`size: trace ${(traceBytes / 2 ** 20).toFixed(2)} MiB vs dump zipped ${(zipped / 2 ** 20).toFixed(2)} MiB: ratio ${(traceBytes / zipped).toFixed(2)} (goal ≤ 1: ${traceBytes <= zipped ? 'met' : 'MISSED'})`);
}

if (process.argv[1]?.endsWith('import.bench.js')) await bench();

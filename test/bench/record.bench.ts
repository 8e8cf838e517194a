/**
 * Recording overhead on an allocation-heavy program: perl filling then
 * thinning a 600k-entry hash. Recorded wall time ÷ plain wall time (medians
 * of a few runs each, alternating), with heaptrack's ratio beside it when
 * heaptrack is installed. Goal ≤ 1.3.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { recorderPath } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

const PERL = ['-e', 'my %h; $h{$_} = "v$_" for 1..600000; delete $h{$_} for grep { $_ % 3 } 1..600000; print scalar(keys %h), "\\n"'];
const RUNS = 5;

function wall(cmd: string, args: string[], env: Record<string, string> = {}): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export default async function bench(): Promise<void> {
  const lib = recorderPath();
  const dir = tempDir('allocreplay-rec-bench-');
  const plain: number[] = [];
  const recorded: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    plain.push(wall('perl', PERL));
    // The recorder's own cost: the program runs with the shim writing its raw
    // log (which `record` converts and deletes afterwards, as here).
    const logs = join(dir, `run${i}`);
    mkdirSync(logs);
    recorded.push(wall('perl', PERL, { LD_PRELOAD: lib, ALLOCREPLAY_RECORD_DIR: logs }));
    rmSync(logs, { recursive: true, force: true });
  }
  const ratio = median(recorded) / median(plain);
  console.log(`perl 600k-entry hash: plain ${median(plain).toFixed(0)} ms, recorded ${median(recorded).toFixed(0)} ms: ratio ${ratio.toFixed(2)} (goal ≤ 1.3: ${ratio <= 1.3 ? 'met' : 'MISSED'})`);
  const heaptrack = spawnSync('heaptrack', ['--version'], { stdio: 'ignore' });
  if (heaptrack.status === 0) {
    const ht: number[] = [];
    for (let i = 0; i < 3; i++) ht.push(wall('heaptrack', ['-o', join(dir, `ht${i}`), 'perl', ...PERL]));
    console.log(`heaptrack on the same workload: ${median(ht).toFixed(0)} ms: ratio ${(median(ht) / median(plain)).toFixed(2)}`);
  } else {
    console.log('heaptrack: not installed (apt-get install heaptrack to compare)');
  }
}

if (process.argv[1]?.endsWith('record.bench.js')) await bench();

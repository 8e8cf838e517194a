import { execFileSync } from 'node:child_process';
import { Flags } from '@oclif/core';
import { listTargets } from '../../engine/index.js';
import { BaseCommand } from '../base.js';

function probe(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0] ?? '';
  } catch {
    return 'not found';
  }
}

function perfCounters(): string {
  try {
    const paranoid = execFileSync('cat', ['/proc/sys/kernel/perf_event_paranoid'], { encoding: 'utf8' }).trim();
    return `perf_event_paranoid=${paranoid} (hardware counters are reported per run when the kernel and VM allow)`;
  } catch {
    return 'no perf_event support';
  }
}

export default class Doctor extends BaseCommand {
  static override description = 'Show what this machine offers allocreplay: compiler, valgrind, git, perf counters, allocators';
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    const facts = {
      node: process.version,
      cc: probe(process.env.CC ?? 'cc', ['--version']),
      make: probe('make', ['--version']),
      valgrind: probe('valgrind', ['--version']),
      git: probe('git', ['--version']),
      perf: perfCounters(),
    };
    const allocators = listTargets().map((t) => ({ name: t.name, kind: t.kind, available: t.available, library: t.library ?? null, why: t.why ?? null }));
    if (flags.json) return this.printJson({ ...facts, allocators });
    for (const [k, v] of Object.entries(facts)) this.log(`${k.padEnd(10)} ${v}`);
    this.log(`${'allocators'.padEnd(10)} ${allocators.map((t) => `${t.name}: ${t.available ? (t.library ?? 'built in') : t.why}`).join('\n           ')}`);
  }
}

import { execFileSync } from 'node:child_process';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base.js';

function probe(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0] ?? '';
  } catch {
    return 'not found';
  }
}

export default class Doctor extends BaseCommand {
  static override description = 'Show what this machine offers allocreplay: compiler, valgrind, perf counters';
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    const facts = {
      node: process.version,
      cc: probe(process.env.CC ?? 'cc', ['--version']),
      valgrind: probe('valgrind', ['--version']),
      git: probe('git', ['--version']),
    };
    if (flags.json) return this.printJson(facts);
    for (const [k, v] of Object.entries(facts)) this.log(`${k.padEnd(10)} ${v}`);
  }
}

import { Flags } from '@oclif/core';
import { doctorReport } from '../../engine/index.js';
import { BaseCommand } from '../base.js';

export default class Doctor extends BaseCommand {
  static override description = 'Show what this machine offers allocreplay: compiler, valgrind, git, perf counters, allocators';
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    const report = doctorReport();
    if (flags.json) return this.printJson(report);
    const { allocators, ...tools } = report;
    for (const [k, v] of Object.entries(tools)) this.log(`${k.padEnd(10)} ${v}`);
    this.log(`${'allocators'.padEnd(10)} ${allocators.map((t) => `${t.name}: ${t.available ? (t.library ?? 'built in') : t.why}`).join('\n           ')}`);
  }
}

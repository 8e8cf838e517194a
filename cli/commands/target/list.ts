import { Flags } from '@oclif/core';
import { listTargets } from '../../../engine/index.js';
import { BaseCommand } from '../../base.js';
import { table } from '../../render.js';

export default class TargetList extends BaseCommand {
  static override description = 'List the allocators replays can run through, and why a missing one is missing';
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(TargetList);
    const targets = [
      ...listTargets(),
      { name: 'tinyslab', kind: 'source' as const, available: true, why: 'bundled reference allocator, built from engine/allocators/tinyslab on first use' },
    ];
    if (flags.json) return this.printJson(targets);
    this.log(table(['target', 'kind', 'available', 'library / why'], targets.map((t) => [t.name, t.kind, t.available ? 'yes' : 'no', ('library' in t && t.library) || t.why || ''])));
  }
}

import { Flags } from '@oclif/core';
import { availableTargets, loadConfig } from '../../../engine/index.js';
import { BaseCommand } from '../../base.js';
import { table } from '../../render.js';

export default class TargetList extends BaseCommand {
  static override description = 'List the allocators replays can run through (packaged ones found here, tinyslab, and the targets of allocreplay.yaml), and why a missing one is missing';
  static override flags = { json: Flags.boolean({ description: 'print as JSON: [{name, kind, available, library?, why?, from}]' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(TargetList);
    // A broken allocreplay.yaml is an error here as everywhere (exit 2 naming the key), never silently skipped.
    const config = loadConfig();
    const targets = availableTargets(config);
    if (flags.json) return this.printJson(targets);
    this.log(table(['target', 'kind', 'available', 'library / why'], targets.map((t) => [t.name, t.kind, t.available ? 'yes' : 'no', t.library || t.why || ''])));
    if (config && Object.keys(config.targets).length) this.log(`\nfrom ${config.path}: ${Object.keys(config.targets).join(', ')}`);
  }
}

import { Args, Flags } from '@oclif/core';
import { buildDirKind, loadConfig, resolveTargetSpec } from '../../../engine/index.js';
import { BaseCommand } from '../../base.js';

export default class TargetShow extends BaseCommand {
  static override description = "Show a target's definition: kind, library or source, build command, flags";
  static override args = { name: Args.string({ description: 'target name', required: true }) };
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TargetShow);
    const spec = resolveTargetSpec(args.name, loadConfig());
    const shown = spec.kind === 'source' ? { ...spec.source, kind: 'source', builds: buildDirKind() } : { ...spec.target };
    if (flags.json) return this.printJson(shown);
    for (const [k, v] of Object.entries(shown)) this.log(`${k.padEnd(9)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
}

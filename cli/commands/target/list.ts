import { existsSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { type ConfigTarget, listTargets, loadConfig, type TargetAvailability } from '../../../engine/index.js';
import { BaseCommand } from '../../base.js';
import { table } from '../../render.js';

/** A target of allocreplay.yaml as `target list` shows it: available when its library or repository is there. */
function configured(name: string, t: ConfigTarget, file: string): TargetAvailability & { from: string } {
  if (t.kind === 'preload') return { name, kind: 'preload', available: existsSync(t.library), ...(existsSync(t.library) ? { library: t.library } : { why: `${t.library} does not exist (fix targets.${name}.library)` }), from: file };
  if (t.kind === 'source') return { name, kind: 'source', available: existsSync(t.repo), why: existsSync(t.repo) ? `built from ${t.repo}` : `${t.repo} does not exist (fix targets.${name}.repo)`, from: file };
  return { name, kind: 'system', available: true, why: "the C library's malloc with this target's env", from: file };
}

export default class TargetList extends BaseCommand {
  static override description = 'List the allocators replays can run through (packaged ones found here, tinyslab, and the targets of allocreplay.yaml), and why a missing one is missing';
  static override flags = { json: Flags.boolean({ description: 'print as JSON: [{name, kind, available, library?, why?, from}]' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(TargetList);
    // A broken allocreplay.yaml is an error here as everywhere (exit 2 naming the key), never silently skipped.
    const config = loadConfig();
    const targets = [
      ...listTargets().map((t) => ({ ...t, from: 'built in' })),
      { name: 'tinyslab', kind: 'source' as const, available: true, why: 'bundled reference allocator, built from engine/allocators/tinyslab on first use', from: 'built in' },
      ...Object.entries(config?.targets ?? {}).map(([name, t]) => configured(name, t, config!.path)),
    ];
    if (flags.json) return this.printJson(targets);
    this.log(table(['target', 'kind', 'available', 'library / why'], targets.map((t) => [t.name, t.kind, t.available ? 'yes' : 'no', ('library' in t && t.library) || t.why || ''])));
    if (config && Object.keys(config.targets).length) this.log(`\nfrom ${config.path}: ${Object.keys(config.targets).join(', ')}`);
  }
}

import { Flags } from '@oclif/core';
import { cacheMaxBytes, parseBytes, prunePlans } from '../../../engine/index.js';
import { formatBytes } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';

export default class CachePrune extends BaseCommand {
  static override description = 'Remove least recently used replay plans until the plan cache fits its cap (or --max; --all removes every plan)';
  static override flags = {
    max: Flags.string({ description: 'cap to prune to, e.g. 2G (default: ALLOCREPLAY_CACHE_MAX, else 8G or a tenth of the disk, the smaller)' }),
    all: Flags.boolean({ description: 'remove every plan (they are made again on the next replay)', exclusive: ['max'] }),
    json: Flags.boolean({ description: 'print as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(CachePrune);
    const max = flags.all ? 0 : flags.max !== undefined ? parseBytes(flags.max, '--max') : cacheMaxBytes();
    const r = prunePlans(max);
    if (flags.json) return this.printJson({ ...r, maxBytes: max });
    this.log(`removed ${r.removed} plan${r.removed === 1 ? '' : 's'}, ${formatBytes(r.freed)} freed (cap ${formatBytes(max)})`);
  }
}

import { Flags } from '@oclif/core';
import { planCacheInfo } from '../../../engine/index.js';
import { formatBytes } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';

export default class CacheInfo extends BaseCommand {
  static override description = 'Show the cache: replay plans (count, size, cap from ALLOCREPLAY_CACHE_MAX) and the other folders';
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(CacheInfo);
    const info = planCacheInfo();
    if (flags.json) return this.printJson(info);
    this.log(`plans     ${info.plans} in ${info.dir}, ${formatBytes(info.bytes)} of ${formatBytes(info.maxBytes)} (ALLOCREPLAY_CACHE_MAX; least recently used out first)`);
    for (const [name, bytes] of Object.entries(info.other)) this.log(`${name.padEnd(9)} ${formatBytes(bytes)}`);
  }
}

import { Args, Flags } from '@oclif/core';
import { type BisectResult, showBisection } from '../../../engine/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';
import { renderBisect } from '../../bisect.js';

export default class BisectShow extends BaseCommand {
  static override description = 'Show a stored bisection: its steps and answer';
  static override args = { id: Args.integer({ description: 'bisection id', required: true }) };
  static override flags = { ...dbFlag, json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(BisectShow);
    const store = storeFor(flags.db, true);
    try {
      const b = showBisection(store, args.id);
      if (flags.json) return this.printJson(b);
      for (const s of b.steps) this.log(`# ${s.verdict.padEnd(4)} ${s.probe}  ${s.value ?? 'build failed'}`);
      if (b.result) this.log(renderBisect(b.result as BisectResult));
      else this.log(`(${b.status}: run the same bisect command again to resume)`);
    } finally {
      store.close();
    }
  }
}

import { Args, Flags } from '@oclif/core';
import { type BisectResult, type BisectStep, showBisection } from '../../../engine/index.js';
import { BaseCommand } from '../../base.js';
import { renderBisect, renderSpec, stepLine } from '../../bisect.js';
import { dbFlag, storeFor } from '../../common.js';

export default class BisectShow extends BaseCommand {
  static override description = 'Show a stored bisection: the options it ran with, its steps and its answer';
  static override args = { id: Args.string({ description: 'bisection id (the number bisect printed)', required: true }) };
  static override flags = { ...dbFlag, json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(BisectShow);
    const store = storeFor(flags.db, true);
    try {
      const b = showBisection(store, args.id);
      if (flags.json) return this.printJson(b);
      const result = b.result as BisectResult | null;
      this.log(`bisection ${b.id}: ${b.kind}, ${renderSpec(b.spec as Record<string, unknown>)} (${b.status})`);
      // A finished bisection prints the steps of its answer; a running one what is stored so far.
      const steps: Pick<BisectStep, 'probe' | 'value' | 'verdict' | 'subject'>[] = result?.steps ?? b.steps.map((s) => ({ ...s, verdict: s.verdict as BisectStep['verdict'] }));
      for (const s of steps) this.log(stepLine(s));
      if (result) this.log(renderBisect(result));
      else this.log(`(${b.status}: run the same bisect command again to resume)`);
    } finally {
      store.close();
    }
  }
}

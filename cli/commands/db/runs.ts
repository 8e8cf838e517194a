import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';
import { table } from '../../render.js';

export default class DbRuns extends BaseCommand {
  static override description = 'List stored runs, newest first';
  static override flags = {
    ...dbFlag,
    limit: Flags.integer({ description: 'how many', default: 30 }),
    json: Flags.boolean({ description: 'print as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DbRuns);
    const store = storeFor(flags.db, true);
    try {
      const runs = store.runs({ limit: flags.limit }).map((r) => {
        const s = store.samples(r.id);
        const med = (xs: number[]): number | null => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1]! : null);
        const value = r.metric === 'time' ? med(s.map((x) => x.nsPerOp)) : med(s.map((x) => x.instructions ?? 0));
        return { ...r, samples: s.length, value };
      });
      if (flags.json) return this.printJson(runs.map(({ series, ...r }) => (void series, r)));
      this.log(
        table(
          ['run', 'session', 'trace', 'configuration', 'config', 'metric', 'status', 'median', 'n'],
          runs.map((r) => [String(r.id), String(r.session), r.trace, r.label, r.configHash.slice(0, 8), r.metric, r.status, r.value === null ? '' : r.metric === 'time' ? `${r.value.toFixed(2)} ns/op` : r.value.toLocaleString('en-US'), String(r.samples)]),
        ),
      );
    } finally {
      store.close();
    }
  }
}

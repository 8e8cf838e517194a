import { Flags } from '@oclif/core';
import { configurationNames, rowKey, runSummaries, statusText } from '../../../reports/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';
import { table } from '../../render.js';

export default class DbRuns extends BaseCommand {
  static override description = 'List stored runs, newest first, with the median every report prints';
  static override flags = {
    ...dbFlag,
    limit: Flags.integer({ description: 'how many', default: 30 }),
    json: Flags.boolean({ description: 'print as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DbRuns);
    const store = storeFor(flags.db, true);
    try {
      const runs = runSummaries(store, flags.limit);
      if (flags.json) return this.printJson(runs.map(({ series, ...r }) => (void series, r)));
      const cell = (r: (typeof runs)[number]): string => {
        if (r.value === null) return r.status === 'ok' ? '' : statusText(r);
        return r.metric === 'time' ? `${r.value.toFixed(2)} ns/op` : Math.round(r.value).toLocaleString('en-US');
      };
      // The label pass over the runs listed (--json keeps every field).
      const names = configurationNames(runs);
      this.log(
        table(
          ['run', 'session', 'trace', 'configuration', 'config', 'metric', 'status', 'median', 'n'],
          runs.map((r) => [String(r.id), String(r.session), r.trace, names.get(rowKey(r))!, r.configHash.slice(0, 8), r.metric, statusText(r), cell(r), String(r.samples)]),
        ),
      );
    } finally {
      store.close();
    }
  }
}

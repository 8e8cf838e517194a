import { spawnSync } from 'node:child_process';
import { Flags } from '@oclif/core';
import { history, matrixReport, type ReportMetric, renderHistory, renderHtml } from '../../../reports/index.js';
import { BaseCommand } from '../../base.js';
import { storeFor } from '../../common.js';
import { emitReport, reportFlags } from '../../report.js';

export default class ReportHistory extends BaseCommand {
  static override description = 'A metric over revisions (commit order when --repo is given, else run order), with a sparkline';
  static override flags = {
    select: Flags.string({ description: 'selector for the runs, e.g. target=mine TS_POOL=1', required: true }),
    repo: Flags.string({ description: 'git repository, to order revisions by commit order' }),
    ...reportFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportHistory);
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric as ReportMetric;
      let order: string[] | undefined;
      if (flags.repo) {
        const r = spawnSync('git', ['-C', flags.repo, 'rev-list', '--reverse', '--all'], { encoding: 'utf8' });
        if (r.status === 0) order = r.stdout.trim().split('\n');
      }
      const h = history(store, { metric, selector: flags.select, ...(order ? { order } : {}) });
      const format = flags.json ? 'json' : flags.format;
      if (format === 'html') emitReport(await renderHtml({ title: 'allocreplay history', metric, store, matrix: matrixReport(store, { metric, selector: flags.select }), history: h }), flags.output);
      else emitReport(renderHistory(h, metric, format as 'table'), flags.output);
    } finally {
      store.close();
    }
  }
}

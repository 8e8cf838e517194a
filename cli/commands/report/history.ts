import { existsSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { history, renderHistory, renderHtml, stdoutColor, type TextFormat } from '../../../reports/index.js';
import { usageError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { selectorFor, storeFor, thresholdFlag } from '../../common.js';
import { configRepos, emitReport, reportEmpty, reportFlags } from '../../report.js';

export default class ReportHistory extends BaseCommand {
  static override description =
    'A metric over revisions, per target and repository, with a sparkline: git commit order (the repository each build came from, --repo, or allocreplay.yaml) with subjects, else run order; runs of one revision pooled into one point';
  static override examples = ["<%= config.bin %> report history --select 'target=tinyslab TS_POOL=1' --repo ../tinyslab"];
  static override flags = {
    select: Flags.string({ description: 'selector for the runs (default: every run with a revision)', default: '' }),
    repo: Flags.string({ description: 'git repository of runs whose build did not record one (orders their revisions)' }),
    threshold: thresholdFlag('percent, for the verdict of each step'),
    ...reportFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportHistory);
    const thresholdPct = flags.threshold;
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric;
      if (flags.repo && !existsSync(flags.repo)) throw usageError(`--repo ${flags.repo}: no such directory`, 'pass the git repository the revisions come from');
      const h = history(store, { metric, selector: selectorFor(store, flags.select, flags.repo) ?? '', thresholdPct, repos: configRepos(), long: flags.long, ...(flags.repo ? { repo: flags.repo } : {}) });
      const format = flags.json ? 'json' : flags.format;
      if (h.length === 0 && format !== 'json') return reportEmpty(store, metric, flags.select || undefined, 'runs with a revision');
      if (format === 'html') emitReport(await renderHtml({ title: 'allocreplay history', metric, source: store.path, history: h }), flags.output);
      else emitReport(renderHistory(h, metric, format as TextFormat, { color: !flags.output && stdoutColor() }), flags.output);
    } finally {
      store.close();
    }
  }
}

import { Flags } from '@oclif/core';
import { renderHtml, renderSweep, stdoutColor, sweepReport, type TextFormat } from '../../../reports/index.js';
import { BaseCommand } from '../../base.js';
import { selectorFor, storeFor } from '../../common.js';
import { emitReport, reportFlags } from '../../report.js';

export default class ReportSweep extends BaseCommand {
  static override description = 'A metric against the values of one numeric flag (e.g. TS_SOFT_CAP), one column per trace, the best value of each marked ★ (tinyslab soft-cap fallbacks beside); --format html draws the line chart';
  static override examples = ["<%= config.bin %> report sweep --flag TS_SOFT_CAP --select 'target=tinyslab'", '<%= config.bin %> report sweep --flag TS_SOFT_CAP --format html -o sweep.html'];
  static override flags = {
    flag: Flags.string({ description: 'the swept flag (compile-time or runtime), with numeric values', required: true }),
    select: Flags.string({ description: 'only runs matching this selector (rev= target= session= config= trace= machine= NAME=value)' }),
    ...reportFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportSweep);
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric;
      const selector = selectorFor(store, flags.select || undefined);
      const r = sweepReport(store, { flag: flags.flag, metric, ...(selector ? { selector } : {}), long: flags.long });
      const format = flags.json ? 'json' : flags.format;
      if (format === 'html') emitReport(await renderHtml({ title: `allocreplay sweep of ${flags.flag}`, metric, source: store.path, sweeps: [r] }), flags.output);
      else emitReport(renderSweep(r, format as TextFormat, { color: !flags.output && stdoutColor() }), flags.output);
    } finally {
      store.close();
    }
  }
}

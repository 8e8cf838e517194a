import { Flags } from '@oclif/core';
import { matrixReport, type ReportMetric, renderHtml, renderMatrixCells } from '../../../reports/index.js';
import { BaseCommand } from '../../base.js';
import { storeFor } from '../../common.js';
import { emitReport, reportFlags } from '../../report.js';

export default class ReportMatrix extends BaseCommand {
  static override description = 'Configurations × traces from the store, the best per trace marked';
  static override flags = { select: Flags.string({ description: 'only runs matching this selector' }), ...reportFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportMatrix);
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric as ReportMetric;
      const cells = matrixReport(store, { metric, ...(flags.select ? { selector: flags.select } : {}) });
      const format = flags.json ? 'json' : flags.format;
      if (format === 'html') emitReport(await renderHtml({ title: 'allocreplay matrix', metric, store, matrix: cells }), flags.output);
      else emitReport(renderMatrixCells(cells, metric, format as 'table'), flags.output);
    } finally {
      store.close();
    }
  }
}

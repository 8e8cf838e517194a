import { Flags } from '@oclif/core';
import { matrixReport, renderHtml, renderMatrixCells, rowKey, seriesReport, stdoutColor, type TextFormat } from '../../../reports/index.js';
import { BaseCommand } from '../../base.js';
import { selectorFor, storeFor } from '../../common.js';
import { emitReport, reportEmpty, reportFlags } from '../../report.js';

export default class ReportMatrix extends BaseCommand {
  static override description = 'Configurations × traces from the store: median ± MAD (exact counts for instructions), ×relative to the best, the best per trace marked ★, failed runs by what happened';
  static override examples = ["<%= config.bin %> report matrix --select 'target=tinyslab' --format markdown"];
  static override flags = { select: Flags.string({ description: 'only runs matching this selector (rev= target= session= config= trace= machine= NAME=value)' }), ...reportFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportMatrix);
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric;
      const resolved = selectorFor(store, flags.select || undefined);
      const selector = resolved ? { selector: resolved } : {};
      const cells = matrixReport(store, { metric, ...selector, long: flags.long });
      const format = flags.json ? 'json' : flags.format;
      if (cells.length === 0 && format !== 'json') return reportEmpty(store, metric, flags.select);
      if (format === 'html') emitReport(await renderHtml({ title: 'allocreplay matrix', metric, source: store.path, matrix: cells, series: seriesReport(store, { ...selector, metric, labels: new Map(cells.map((c) => [rowKey(c), c.label])) }) }), flags.output);
      else emitReport(renderMatrixCells(cells, metric, format as TextFormat, { color: !flags.output && stdoutColor() }), flags.output);
    } finally {
      store.close();
    }
  }
}

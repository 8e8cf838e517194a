import { Flags } from '@oclif/core';
import { compare, history, matrixReport, type ReportMetric, renderHtml } from '../../../reports/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';
import { emitReport } from '../../report.js';

export default class ReportHtml extends BaseCommand {
  static override description = 'One self-contained HTML page: matrix, comparison, live bytes vs RSS, history — SVG charts, no network needed';
  static override flags = {
    output: Flags.string({ char: 'o', description: 'HTML file', required: true }),
    metric: Flags.string({ options: ['time', 'instructions'], default: 'time', description: 'metric' }),
    select: Flags.string({ description: 'only runs matching this selector' }),
    baseline: Flags.string({ description: 'add a comparison: baseline selector' }),
    candidate: Flags.string({ description: 'add a comparison: candidate selector' }),
    threshold: Flags.string({ default: '2', description: 'percent' }),
    json: Flags.boolean({ description: 'print where the file went as JSON' }),
    ...dbFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportHtml);
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric as ReportMetric;
      const matrix = matrixReport(store, { metric, ...(flags.select ? { selector: flags.select } : {}) });
      const cmp = flags.baseline && flags.candidate ? compare(store, flags.baseline, flags.candidate, { metric, thresholdPct: Number(flags.threshold) }) : undefined;
      const h = flags.select ? history(store, { metric, selector: flags.select }) : undefined;
      emitReport(await renderHtml({ title: 'allocreplay report', metric, store, matrix, ...(cmp ? { compare: cmp } : {}), ...(h ? { history: h } : {}) }), flags.output);
      if (flags.json) this.printJson({ output: flags.output });
      else this.log(`wrote ${flags.output}`);
    } finally {
      store.close();
    }
  }
}

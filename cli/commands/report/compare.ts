import { Flags } from '@oclif/core';
import { compare, matrixReport, type ReportMetric, renderCompare, renderHtml } from '../../../reports/index.js';
import { BaseCommand } from '../../base.js';
import { storeFor } from '../../common.js';
import { emitReport, reportFlags } from '../../report.js';

export default class ReportCompare extends BaseCommand {
  static override description = 'Compare a baseline and a candidate per trace: medians, delta, 95% CI of the ratio, Mann–Whitney p, verdict';
  static override examples = ["<%= config.bin %> report compare --baseline 'target=tinyslab TS_INLINE=1' --candidate 'target=tinyslab TS_INLINE=0' --metric instructions"];
  static override flags = {
    baseline: Flags.string({ description: 'selector: rev= target= session= config= trace= NAME=value', required: true }),
    candidate: Flags.string({ description: 'selector for the candidate', required: true }),
    threshold: Flags.string({ description: 'percent beyond which a difference counts', default: '2' }),
    ...reportFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportCompare);
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric as ReportMetric;
      const rows = compare(store, flags.baseline, flags.candidate, { metric, thresholdPct: Number(flags.threshold) });
      const format = flags.json ? 'json' : flags.format;
      if (format === 'html') {
        const keep = new Set(rows.flatMap((r) => [r.baseline, r.candidate]));
        const matrix = matrixReport(store, { metric }).filter((c) => keep.has(c.label));
        emitReport(await renderHtml({ title: 'allocreplay comparison', metric, store, matrix, compare: rows }), flags.output);
      } else emitReport(renderCompare(rows, format as 'table'), flags.output);
    } finally {
      store.close();
    }
  }
}

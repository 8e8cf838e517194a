import { Flags } from '@oclif/core';
import { anyRegression, checkSummary, compare, type ReportMetric } from '../../../reports/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';
import { emitReport } from '../../report.js';

export default class ReportCheck extends BaseCommand {
  static override description = 'For CI: exit 1 when the candidate regresses beyond --threshold on any trace; prints a markdown summary';
  static override flags = {
    baseline: Flags.string({ description: 'selector for the baseline', required: true }),
    candidate: Flags.string({ description: 'selector for the candidate', required: true }),
    threshold: Flags.string({ description: 'percent', default: '2' }),
    metric: Flags.string({ options: ['time', 'instructions'], default: 'instructions', description: 'metric' }),
    output: Flags.string({ char: 'o', description: 'also write the markdown here' }),
    json: Flags.boolean({ description: 'print the comparison as JSON' }),
    ...dbFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportCheck);
    const store = storeFor(flags.db, true);
    let failed = false;
    try {
      const rows = compare(store, flags.baseline, flags.candidate, { metric: flags.metric as ReportMetric, thresholdPct: Number(flags.threshold) });
      failed = anyRegression(rows);
      const md = checkSummary(rows, Number(flags.threshold));
      if (flags.output) emitReport(md, flags.output);
      if (flags.json) this.printJson({ regression: failed, rows });
      else process.stdout.write(md);
    } finally {
      store.close();
    }
    if (failed) process.exit(1);
  }
}

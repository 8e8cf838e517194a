import { Flags } from '@oclif/core';
import { check, checkSummary, renderCompare, stdoutColor } from '../../../reports/index.js';
import { METRICS, usageError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, selectorFor, storeFor, thresholdFlag } from '../../common.js';
import { emitReport, longFlag } from '../../report.js';

export default class ReportCheck extends BaseCommand {
  static override description = 'For CI: compare, then exit 1 when any trace regresses beyond --threshold or the candidate crashed, timed out or failed on it; prints a markdown summary for a CI comment';
  static override examples = ["<%= config.bin %> report check --baseline rev=main --candidate rev=HEAD --metric instructions -o comment.md"];
  static override flags = {
    baseline: Flags.string({ description: 'selector for the baseline (rev= target= session= config= trace= machine= NAME=value)', required: true }),
    candidate: Flags.string({ description: 'selector for the candidate', required: true }),
    threshold: thresholdFlag('percent: a regression must exceed it'),
    metric: Flags.option({ options: METRICS, default: 'time', description: 'time (ns/op) or instructions (exact)' })(),
    format: Flags.option({ options: ['markdown', 'table', 'json', 'csv'] as const, default: 'markdown', description: 'what to print' })(),
    output: Flags.string({ char: 'o', description: 'also write the markdown summary to this file' }),
    json: Flags.boolean({ description: 'print {regression, thresholdPct, rows} as JSON' }),
    'across-machines': Flags.boolean({ description: 'compare timings from different machines (and instruction counts from different toolchains); rows say so' }),
    repo: Flags.string({ description: 'repository that rev= refs (tags, branches, HEAD~1) are resolved in (default: the source targets of allocreplay.yaml and of the stored runs)' }),
    ...longFlag,
    ...dbFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportCheck);
    const thresholdPct = flags.threshold;
    const store = storeFor(flags.db, true);
    let regression = false;
    try {
      const result = check(store, selectorFor(store, flags.baseline, flags.repo)!, selectorFor(store, flags.candidate, flags.repo)!, { metric: flags.metric, thresholdPct, acrossMachines: flags['across-machines'], long: flags.long });
      regression = result.regression || result.candidateFailed.length > 0;
      const md = checkSummary(result);
      if (flags.output) emitReport(md, flags.output);
      if (flags.json) this.printJson(result);
      else if (flags.format === 'markdown') process.stdout.write(md);
      else emitReport(renderCompare(result.rows, flags.format as 'table' | 'json' | 'csv', { color: stdoutColor() }), undefined);
    } finally {
      store.close();
    }
    // Exit code 1 = regression found, or the candidate did not finish somewhere (output is flushed first: no process.exit here).
    if (regression) process.exitCode = 1;
  }
}

import { Flags } from '@oclif/core';
import { compare, matrixReport, renderCompare, renderHtml, rowKey, seriesReport, stdoutColor, type TextFormat } from '../../../reports/index.js';
import { usageError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { selectorFor, storeFor, thresholdFlag } from '../../common.js';
import { emitReport, reportFlags } from '../../report.js';

export default class ReportCompare extends BaseCommand {
  static override description = 'Compare a baseline and a candidate per trace: medians, delta, 95% CI of the ratio, Mann–Whitney p, verdict';
  static override examples = [
    "<%= config.bin %> report compare --baseline 'target=tinyslab TS_INLINE=1' --candidate 'target=tinyslab TS_INLINE=0'",
    '<%= config.bin %> report compare --baseline rev=v1.2 --candidate rev=main --metric instructions --format markdown',
  ];
  static override flags = {
    baseline: Flags.string({ description: 'selector: rev= target= session= config= trace= machine= NAME=value (spaces or commas)', required: true }),
    candidate: Flags.string({ description: 'selector for the candidate', required: true }),
    threshold: thresholdFlag('percent: differences within ±P are "no change"'),
    'across-machines': Flags.boolean({ description: 'compare timings from different machines (and instruction counts from different toolchains); rows say so' }),
    repo: Flags.string({ description: 'repository that rev= refs (tags, branches, HEAD~1) are resolved in (default: the source targets of allocreplay.yaml and of the stored runs)' }),
    ...reportFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportCompare);
    const thresholdPct = flags.threshold;
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric;
      const rows = compare(store, selectorFor(store, flags.baseline, flags.repo)!, selectorFor(store, flags.candidate, flags.repo)!, { metric, thresholdPct, acrossMachines: flags['across-machines'], long: flags.long });
      const format = flags.json ? 'json' : flags.format;
      if (format === 'html') {
        const keep = new Set(rows.flatMap((r) => [r.baselineHash, r.candidateHash]));
        const traces = new Set(rows.map((r) => r.trace));
        const matrix = matrixReport(store, { metric, long: flags.long }).filter((c) => keep.has(c.configHash) && traces.has(c.trace));
        const labels = new Map(matrix.map((c) => [rowKey(c), c.label]));
        const series = seriesReport(store, { metric, labels })
          .filter((s) => traces.has(s.trace))
          .map((s) => ({ ...s, rss: s.rss.filter((r) => labels.has(rowKey(r))), missing: s.missing.filter((r) => labels.has(rowKey(r))) }));
        emitReport(await renderHtml({ title: 'allocreplay comparison', metric, source: store.path, compare: rows, thresholdPct, matrix, series }), flags.output);
      } else emitReport(renderCompare(rows, format as TextFormat, { color: !flags.output && stdoutColor() }), flags.output);
    } finally {
      store.close();
    }
  }
}


import { Flags } from '@oclif/core';
import { compare, fidelityReport, history, listBisections, matrixReport, renderHtml, rowKey, seriesReport } from '../../../reports/index.js';
import { METRICS, usageError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor, thresholdFlag } from '../../common.js';
import { configRepos, emitReport } from '../../report.js';

export default class ReportHtml extends BaseCommand {
  static override description =
    'One self-contained HTML page: comparison, configurations per trace with CI bars, live bytes vs RSS per trace, history per target and repository, bisections with their steps; SVG charts inline, no network needed to view';
  static override examples = ["<%= config.bin %> report html -o report.html --baseline 'TS_INLINE=1' --candidate 'TS_INLINE=0'"];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'HTML file to write', required: true }),
    metric: Flags.option({ options: METRICS, default: 'time', description: 'time (ns/op) or instructions' })(),
    select: Flags.string({ description: 'only runs matching this selector', default: '' }),
    baseline: Flags.string({ description: 'add a comparison: baseline selector (with --candidate)' }),
    candidate: Flags.string({ description: 'add a comparison: candidate selector (with --baseline)' }),
    threshold: thresholdFlag('percent, for the comparison'),
    title: Flags.string({ default: 'allocreplay report', description: 'page title' }),
    json: Flags.boolean({ description: 'print what was written as JSON' }),
    ...dbFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportHtml);
    if (!!flags.baseline !== !!flags.candidate) throw usageError('--baseline and --candidate go together', 'pass both to add a comparison, or neither');
    const thresholdPct = flags.threshold;
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric;
      const selector = flags.select ? { selector: flags.select } : {};
      const matrix = matrixReport(store, { metric, ...selector });
      const cmp = flags.baseline && flags.candidate ? compare(store, flags.baseline, flags.candidate, { metric, thresholdPct }) : undefined;
      const h = history(store, { metric, selector: flags.select, repos: configRepos() });
      const series = seriesReport(store, { ...selector, metric, labels: new Map(matrix.map((c) => [rowKey(c), c.label])) });
      const bisections = listBisections(store);
      const fidelity = metric === 'time' ? fidelityReport(store, selector) : [];
      emitReport(await renderHtml({ title: flags.title, metric, source: store.path, matrix, series, history: h, bisections, thresholdPct, fidelity, ...(cmp ? { compare: cmp } : {}) }), flags.output);
      const summary = {
        output: flags.output,
        configurations: new Set(matrix.map(rowKey)).size,
        traces: new Set(matrix.map((c) => c.trace)).size,
        compared: cmp?.length ?? 0,
        historyLines: h.length,
        seriesTraces: series.length,
        seriesConfigurations: series.reduce((n, s) => n + s.rss.length, 0),
        bisections: bisections.length,
        fidelityGroups: fidelity.length,
      };
      if (flags.json) this.printJson(summary);
      else this.log(`wrote ${flags.output}: ${summary.configurations} configurations × ${summary.traces} traces, ${summary.seriesTraces} series traces, ${summary.historyLines} history lines, ${summary.bisections} bisections${fidelity.length ? `, ${fidelity.length} fidelity tables` : ''}${cmp ? `, ${cmp.length} compared` : ''}`);
    } finally {
      store.close();
    }
  }
}

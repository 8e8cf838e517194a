import { Flags } from '@oclif/core';
import { compare, emptyNote, fidelityReport, heldMetrics, history, listBisections, matrixReport, type MetricViews, renderHtml, rowKey, seriesReport } from '../../../reports/index.js';
import { type Metric, METRICS, usageError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, selectorFor, storeFor, thresholdFlag } from '../../common.js';
import { configRepos, emitReport, longFlag } from '../../report.js';

export default class ReportHtml extends BaseCommand {
  static override description =
    'One self-contained HTML page: comparison, configurations per trace with CI bars, live bytes vs RSS per trace, history per target and repository, bisections with their steps; SVG charts inline, no network needed to view';
  static override examples = ["<%= config.bin %> report html -o report.html --baseline 'TS_INLINE=1' --candidate 'TS_INLINE=0'"];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'HTML file to write', required: true }),
    metric: Flags.option({ options: METRICS, description: 'only this metric (default: every metric the database holds)' })(),
    select: Flags.string({ description: 'only runs matching this selector', default: '' }),
    baseline: Flags.string({ description: 'add a comparison: baseline selector (with --candidate)' }),
    candidate: Flags.string({ description: 'add a comparison: candidate selector (with --baseline)' }),
    threshold: thresholdFlag('percent, for the comparison'),
    title: Flags.string({ default: 'allocreplay report', description: 'page title' }),
    json: Flags.boolean({ description: 'print what was written as JSON' }),
    ...longFlag,
    ...dbFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportHtml);
    if (!!flags.baseline !== !!flags.candidate) throw usageError('--baseline and --candidate go together', 'pass both to add a comparison, or neither');
    const thresholdPct = flags.threshold;
    const store = storeFor(flags.db, true);
    try {
      const resolved = selectorFor(store, flags.select || undefined);
      const selector = resolved ? { selector: resolved } : {};
      // Every metric the database holds (of what the selector picks), or the one asked for.
      const held = heldMetrics(store, resolved);
      const metrics: Metric[] = flags.metric ? [flags.metric] : held.length ? held : ['time'];
      const repos = configRepos();
      const views: MetricViews[] = metrics.map((metric) => {
        const matrix = matrixReport(store, { metric, ...selector, long: flags.long });
        return {
          metric,
          matrix,
          history: history(store, { metric, selector: resolved ?? '', repos, long: flags.long }),
          series: seriesReport(store, { ...selector, metric, labels: new Map(matrix.map((c) => [rowKey(c), c.label])) }),
        };
      });
      const [main, ...more] = views as [MetricViews, ...MetricViews[]];
      const metric = main.metric;
      const cmp = flags.baseline && flags.candidate ? compare(store, selectorFor(store, flags.baseline)!, selectorFor(store, flags.candidate)!, { metric, thresholdPct, long: flags.long }) : undefined;
      const bisections = listBisections(store);
      const fidelity = metrics.includes('time') ? fidelityReport(store, selector) : [];
      const nothing = views.every((v) => !v.matrix?.length && !v.history?.length) && !cmp?.length && !bisections.length && !fidelity.length;
      const empty = nothing ? emptyNote(store, flags.metric ? metric : 'time', flags.select || undefined) : undefined;
      emitReport(await renderHtml({ title: flags.title, metric, source: store.path, matrix: main.matrix, series: main.series, history: main.history, more, bisections, thresholdPct, fidelity, ...(cmp ? { compare: cmp } : {}), ...(empty ? { empty } : {}) }), flags.output);
      const count = (f: (v: MetricViews) => number): number => views.reduce((n, v) => n + f(v), 0);
      const summary = {
        output: flags.output,
        metrics,
        configurations: new Set(views.flatMap((v) => v.matrix!.map(rowKey))).size,
        traces: new Set(views.flatMap((v) => v.matrix!.map((c) => c.trace))).size,
        compared: cmp?.length ?? 0,
        historyLines: count((v) => v.history!.length),
        seriesTraces: count((v) => v.series!.length),
        seriesConfigurations: count((v) => v.series!.reduce((n, s) => n + s.rss.length, 0)),
        bisections: bisections.length,
        fidelityGroups: fidelity.length,
        ...(empty ? { empty } : {}),
      };
      if (empty) process.stderr.write(`allocreplay: ${empty}\n`);
      if (flags.json) this.printJson(summary);
      else this.log(`wrote ${flags.output} (${metrics.join(' and ')}): ${summary.configurations} configurations × ${summary.traces} traces, ${summary.seriesTraces} series traces, ${summary.historyLines} history lines, ${summary.bisections} bisections${fidelity.length ? `, ${fidelity.length} fidelity tables` : ''}${cmp ? `, ${cmp.length} compared` : ''}`);
    } finally {
      store.close();
    }
  }
}

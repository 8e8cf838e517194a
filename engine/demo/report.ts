import { compare, history, listBisections, matrixReport, renderHtml, rowKey, seriesReport, type Store, type SweepReport, sweepReport } from '../../reports/index.js';
import type { DemoResult } from './demo.js';

/**
 * The demo's report.html: the allocator matrix and RSS series, the history's
 * first and last commits compared, the history line, the demo's bisection
 * and the soft-cap sweep. The sweep is returned too (undefined when nothing
 * in this database varies the flag) so the text output can print it.
 */
export async function demoReport(store: Store, r: DemoResult, source: string): Promise<{ html: string; sweep: SweepReport | undefined }> {
  let sweep: SweepReport | undefined;
  try {
    sweep = sweepReport(store, { flag: r.sweep.flag, metric: 'time', selector: 'target=tinyslab' });
  } catch {
    sweep = undefined; // nothing swept in this database: the sweep's own figures are still printed
  }
  const sel = (rev: string): string => `target=tinyslab-history rev=${rev} warmup=${r.historyOptions.warmup}`;
  const matrix = matrixReport(store, { metric: 'time' });
  const html = await renderHtml({
    title: 'allocreplay demo',
    metric: 'time',
    source,
    matrix,
    compare: compare(store, sel(r.history.commits[0]!.commit), sel(r.history.commits.at(-1)!.commit), { metric: 'time', thresholdPct: r.check.thresholdPct }),
    thresholdPct: r.check.thresholdPct,
    series: seriesReport(store, { metric: 'time', labels: new Map(matrix.map((c) => [rowKey(c), c.label])) }),
    // The history line is of instruction counts: its own block, in its own unit.
    more: [{ metric: 'instructions', history: history(store, { metric: 'instructions', selector: 'target=tinyslab-history', repo: r.history.repo }) }],
    bisections: listBisections(store).filter((b) => [r.bisect, r.bisectTime].some((x) => 'id' in x && x.id === b.id)),
    ...(sweep ? { sweeps: [sweep] } : {}),
    fidelity: r.fidelity.groups,
  });
  return { html, sweep };
}

import { join, relative, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { type DemoBisection, demoReport, runDemo } from '../../engine/index.js';
import { openStore } from '../../reports/index.js';
import { BaseCommand } from '../base.js';
import { replayOptions, selfCommand } from '../common.js';
import { renderDemo, summaryParagraph } from '../demo.js';
import { Progress } from '../progress.js';
import { emitReport } from '../report.js';

export default class Demo extends BaseCommand {
  static override description =
    'The main job: every allocator here side by side (with % of the system allocator), then a refactor dip in a real tinyslab history measured, checked and bisected, a soft-cap sweep, and a profile-guided build; writes report.html';
  static override flags = {
    dir: Flags.string({ description: 'where traces, the history repository, the SQLite file and report.html go', default: '.allocreplay/demo' }),
    repeat: Flags.integer({ description: 'measured repetitions per configuration, interleaved (the dip, the time bisection and PGO take twice as many)', default: 8, min: 2 }),
    json: Flags.boolean({ description: 'print the findings as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Demo);
    const started = Date.now();
    const dir = resolve(flags.dir);
    const dbPath = join(dir, 'results.sqlite');
    const reportPath = join(dir, 'report.html');
    const store = openStore(dbPath);
    const progress = new Progress('demo', 0);
    const options = replayOptions({ repeat: flags.repeat, warmup: 1, mode: 'serial', touch: 'first', metric: 'time', timeout: 300 });
    try {
      const session = store.beginSession(process.argv.slice(2));
      const r = await runDemo(store, session, dir, options, {
        onPhase: (what) => progress.doing(what),
        onStart: (j) => progress.doing(`${j.trace.name} × ${j.label}`),
        onBisectStep: (s) => progress.log(`bisect: ${s.probe.slice(0, 10)} ${s.subject ?? ''} → ${s.verdict}${s.value !== null ? ` (${s.value.toLocaleString('en-US')})` : ''}`),
      });
      progress.doing('writing report.html');
      const { html } = await demoReport(store, r, dbPath);
      emitReport(html, reportPath);
      progress.stop();
      const seconds = (Date.now() - started) / 1000;
      if (flags.json) return this.printJson({ db: dbPath, report: reportPath, seconds, summary: summaryParagraph(r), dip: r.dip, check: { regression: r.check.regression, rows: r.check.rows.length }, bisect: bisectJson(r.bisect), bisectTime: bisectJson(r.bisectTime), sweep: r.sweep, pgo: r.pgo, fidelity: r.fidelity });
      this.log(renderDemo(r, reportPath));
      this.log(`\n${r.allocators.configurations} allocator runs (${r.allocators.skipped} already stored) in ${seconds.toFixed(1)} s; results in ${dbPath}`);
      this.log(`next: ${selfCommand()} report matrix --db ${relative(process.cwd(), dbPath) || dbPath}`);
    } finally {
      progress.stop();
      store.close();
    }
  }
}

/** A bisection's answer for --json: the first bad commit and what moved, or why there was none. */
function bisectJson(b: DemoBisection): Record<string, unknown> {
  if ('refused' in b) return { metric: b.metric, refused: b.refused };
  return { metric: b.metric, firstBad: b.firstBadCommit, ...(b.confirmation ? { confirmation: b.confirmation } : {}), attribution: b.attribution.slice(0, 10) };
}

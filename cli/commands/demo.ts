import { join, relative, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { runDemo } from '../../engine/index.js';
import { openStore } from '../../reports/index.js';
import { BaseCommand } from '../base.js';
import { replayOptions, selfCommand } from '../common.js';
import { Progress } from '../progress.js';
import { bold, renderMatrix } from '../render.js';

export default class Demo extends BaseCommand {
  static override description = 'Generate the classic workloads and measure system, tinyslab (TS_POOL × TS_TLS_CACHE) and every packaged allocator here';
  static override flags = {
    dir: Flags.string({ description: 'where traces and the SQLite file go', default: '.allocreplay/demo' }),
    repeat: Flags.integer({ description: 'measured repetitions per configuration', default: 5, min: 1 }),
    json: Flags.boolean({ description: 'print the results as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Demo);
    const dir = resolve(flags.dir);
    const dbPath = join(dir, 'results.sqlite');
    const store = openStore(dbPath);
    const progress = new Progress('demo', 0);
    const options = replayOptions({ repeat: flags.repeat, warmup: 1, mode: 'serial', touch: 'first', metric: 'time', timeout: 300 });
    try {
      const session = store.beginSession(process.argv.slice(2));
      progress.doing('generating traces');
      const r = await runDemo(store, session, dir, options, {
        onBuild: (label, b) => (b.buildError ? progress.log(`build FAILED ${label}: ${b.buildError}`) : b.cached ? undefined : progress.log(`built ${label}`)),
        onPlan: (todo) => progress.setTotal(todo * options.repeat),
        onStart: (j) => progress.tick(`${j.trace.name} × ${j.label}`),
      });
      progress.stop();
      if (flags.json) return this.printJson({ db: dbPath, traces: r.traces, findings: r.findings, configurations: r.configurations, skipped: r.skipped });
      this.log(renderMatrix(r.outcomes, 'time'));
      this.log('');
      for (const c of r.findings.tlsCacheCost) this.log(`${bold('TS_TLS_CACHE=0')} costs ${((c.ratio - 1) * 100).toFixed(1)}% on ${c.trace} (ns/op vs TS_TLS_CACHE=1, TS_POOL=1)`);
      for (const f of r.findings.capFallbacks8192) this.log(`${bold('soft-cap fallbacks')} at 8192 slots with TS_POOL=${f.pool}: ${f.fallbacks}`);
      this.log(`\n${r.configurations} runs (${r.skipped} already stored); traces in ${dir}; results in ${dbPath}`);
      this.log(`next: ${selfCommand()} db runs --db ${relative(process.cwd(), dbPath) || dbPath}`);
    } finally {
      progress.stop();
      store.close();
    }
  }
}

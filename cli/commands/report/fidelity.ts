import { Flags } from '@oclif/core';
import { FIDELITY_CLOCKS, fidelityReport, type FidelityGroup, renderFidelity, renderHtml, type Store } from '../../../reports/index.js';
import { BaseCommand } from '../../base.js';
import { selectorFor, storeFor } from '../../common.js';
import { emitReport, reportFlags } from '../../report.js';

/** What the database holds when no recording has both live runs and replays, and the commands that would make one. */
function emptyNote(store: Store): string {
  const count = (sql: string): number => (store.db.prepare(sql).get() as { n: number }).n;
  const recordings = count("SELECT COUNT(*) AS n FROM traces WHERE program IS NOT NULL AND producer != 'live'");
  const programs = count("SELECT COUNT(DISTINCT r.trace_id) AS n FROM runs r JOIN traces t ON t.id = r.trace_id WHERE t.producer = 'live'");
  const replayed = count("SELECT COUNT(DISTINCT r.trace_id) AS n FROM runs r JOIN traces t ON t.id = r.trace_id WHERE t.program IS NOT NULL AND t.producer != 'live'");
  return `no recording has both live runs of its program and replays of at least the baseline and one more target: the database holds ${recordings} recorded trace${recordings === 1 ? '' : 's'} that name their program (${replayed} replayed), and live runs of ${programs} program${programs === 1 ? '' : 's'}; run \`allocreplay live --from T -t system -t mimalloc\` and \`allocreplay replay T -t system -t mimalloc\` for a recording T`;
}

export default class ReportFidelity extends BaseCommand {
  static override description = 'How well replays predict the live program: per recording × replay mode, each target\'s live Δ and replay Δ against a baseline with 95% CIs, the share of the live difference the replay carries, and Kendall\'s τ between the two orderings';
  static override examples = ['<%= config.bin %> report fidelity', '<%= config.bin %> report fidelity --baseline system --select trace=py --format html -o fidelity.html'];
  static override flags = {
    baseline: Flags.string({ description: 'the target every Δ is taken against', default: 'system' }),
    clock: Flags.option({ description: 'wall time (as the program is felt) or cpu: user + system time, which a busy machine disturbs less', options: FIDELITY_CLOCKS, default: 'wall' })(),
    select: Flags.string({ description: 'only replays matching this selector (trace= mode= touch= target= …); the live runs of their programs come along' }),
    ...reportFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportFidelity);
    const store = storeFor(flags.db, true);
    try {
      const selector = selectorFor(store, flags.select);
      const groups: FidelityGroup[] = fidelityReport(store, { baseline: flags.baseline, clock: flags.clock, ...(selector ? { selector } : {}) });
      const format = flags.json ? 'json' : flags.format;
      if (!groups.length && format !== 'json') {
        process.stderr.write(`allocreplay: ${emptyNote(store)}\n`);
        process.exitCode = 1;
        return;
      }
      if (format === 'html') emitReport(await renderHtml({ title: 'allocreplay fidelity', metric: 'time', source: store.path, fidelity: groups }), flags.output);
      else emitReport(renderFidelity(groups, format as 'table' | 'markdown' | 'csv' | 'json'), flags.output);
    } finally {
      store.close();
    }
  }
}

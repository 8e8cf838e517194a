import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { loadConfig } from '../../../engine/index.js';
import { history, type ReportMetric, renderHistory, renderHtml, stdoutColor, type TextFormat } from '../../../reports/index.js';
import { usageError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { storeFor } from '../../common.js';
import { emitReport, reportFlags } from '../../report.js';

export default class ReportHistory extends BaseCommand {
  static override description =
    'A metric over revisions, with a sparkline: commit order from git (--repo, or the source targets in allocreplay.yaml), else run order';
  static override examples = ["<%= config.bin %> report history --select 'target=tinyslab TS_POOL=1' --repo ../tinyslab"];
  static override flags = {
    select: Flags.string({ description: 'selector for the runs (default: every run with a revision)', default: '' }),
    repo: Flags.string({ description: 'git repository whose commit order orders the revisions' }),
    threshold: Flags.string({ description: 'percent, for the verdict of each step', default: '2' }),
    ...reportFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ReportHistory);
    const thresholdPct = Number(flags.threshold);
    if (!Number.isFinite(thresholdPct) || thresholdPct < 0) throw usageError(`--threshold ${flags.threshold} is not a percentage`, 'pass a number of percent, e.g. --threshold 2');
    const store = storeFor(flags.db, true);
    try {
      const metric = flags.metric as ReportMetric;
      const order = commitOrder(flags.repo);
      const h = history(store, { metric, selector: flags.select, thresholdPct, ...(order ? { order } : {}) });
      const format = flags.json ? 'json' : flags.format;
      if (format === 'html') emitReport(await renderHtml({ title: 'allocreplay history', metric, source: store.path, history: h }), flags.output);
      else emitReport(renderHistory(h, metric, format as TextFormat, { color: !flags.output && stdoutColor() }), flags.output);
    } finally {
      store.close();
    }
  }
}

/**
 * Commits oldest first, from `git rev-list --topo-order --reverse --all` of
 * `--repo`, or else of every source target's repository in allocreplay.yaml
 * (concatenated); undefined when no repository is known (run order then).
 */
function commitOrder(repo: string | undefined): string[] | undefined {
  const repos: string[] = [];
  if (repo) {
    if (!existsSync(repo)) throw usageError(`--repo ${repo}: no such directory`, 'pass the git repository the revisions come from');
    repos.push(repo);
  } else {
    let config;
    try {
      config = loadConfig();
    } catch {
      config = undefined; // A broken config is not this report's concern: fall back to run order.
    }
    for (const t of Object.values(config?.targets ?? {})) if (t.kind === 'source') repos.push(t.repo);
  }
  const order: string[] = [];
  for (const r of repos) {
    const out = spawnSync('git', ['-C', r, 'rev-list', '--topo-order', '--reverse', '--all'], { encoding: 'utf8' });
    if (out.status === 0) order.push(...out.stdout.split('\n').filter(Boolean));
    else if (repo) throw usageError(`--repo ${repo}: git rev-list failed: ${(out.stderr || '').trim().split('\n')[0]}`, 'pass a git repository');
  }
  return order.length ? order : undefined;
}

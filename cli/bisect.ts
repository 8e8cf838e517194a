import { Flags } from '@oclif/core';
import { type BisectCommon, type BisectResult, type BisectStep, loadConfig, resolveTargetSpec, type SourceTarget } from '../engine/index.js';
import type { Store } from '../reports/index.js';
import { usageError } from '../traces/index.js';
import { dbFlag, inlineSourceFlags, inlineTarget, replayFlags, replayOptions, storeFor } from './common.js';
import { bold, green, red, table } from './render.js';

/** Flags both bisect commands take. */
export const bisectFlags = {
  target: Flags.string({ description: 'a source target (tinyslab, or one of allocreplay.yaml)' }),
  ...inlineSourceFlags,
  trace: Flags.string({ description: 'the trace that shows the regression', required: true }),
  threshold: Flags.string({ description: 'percent beyond the good figure that counts as bad', default: '2' }),
  'no-attribution': Flags.boolean({ description: 'skip the per-function callgrind attribution' }),
  ...replayFlags,
  metric: Flags.string({ description: 'instructions (exact, the default) or time', options: ['time', 'instructions'], default: 'instructions' }),
  ...dbFlag,
  json: Flags.boolean({ description: 'print the result as JSON' }),
};

export function sourceFor(f: { target?: string; repo?: string; build?: string; artifact?: string[]; flag?: string[] }): { source: SourceTarget; db?: string } {
  const inline = inlineTarget(loadConfig(), f);
  const name = inline.name ?? f.target;
  if (!name) throw usageError('bisect needs a source target', 'pass --target tinyslab (or a source target of allocreplay.yaml), or --repo, --build and --artifact');
  const spec = resolveTargetSpec(name, inline.config);
  if (spec.kind !== 'source') throw usageError(`target ${name} is not built from source, so it has no commits or build flags to bisect`, 'use a source target');
  return { source: spec.source, ...(inline.config?.db ? { db: inline.config.db } : {}) };
}

/** One line per step, as it happens, like `git bisect log`. */
export function stepLine(s: BisectStep): string {
  const v = s.value === null ? 'build failed' : s.value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  const verdict = s.verdict === 'bad' ? red('bad ') : s.verdict === 'good' ? green('good') : 'skip';
  return `# ${verdict} ${s.probe.length === 40 ? s.probe.slice(0, 10) : s.probe}  ${v}${s.subject ? `  ${s.subject}` : ''}`;
}

export function renderBisect(r: BisectResult): string {
  const out: string[] = [];
  const fb = r.firstBadCommit;
  if (fb) out.push(`${bold(`${fb.commit} is the first bad commit`)}\n    ${fb.subject}\n    ${fb.deltaPct >= 0 ? '+' : ''}${fb.deltaPct.toFixed(2)}% (${r.good.value.toLocaleString('en-US')} → ${fb.value.toLocaleString('en-US')})`);
  if (r.culprits) out.push(`${bold('smallest set of flag changes that reproduces the regression:')} ${Object.entries(r.culprits).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  out.push(`${r.steps.length} steps, ${r.builds} builds; bisection ${r.id} (allocreplay bisect show ${r.id})`);
  if (r.attribution.length) {
    out.push(`\n${bold('functions by instruction delta (bad − good)')}`);
    const n = (x: number): string => `${x > 0 ? '+' : ''}${x.toLocaleString('en-US')}`;
    out.push(table(['function', 'self Δ', 'inclusive Δ', 'self good', 'self bad'], r.attribution.map((a) => [a.function, n(a.selfDelta), n(a.inclDelta), a.goodSelf.toLocaleString('en-US'), a.badSelf.toLocaleString('en-US')])));
  }
  return out.join('\n');
}

type BisectFlagValues = { target?: string; repo?: string; build?: string; artifact?: string[]; flag?: string[]; trace: string; threshold: string; 'no-attribution': boolean; metric: string; repeat: number; warmup: number; mode: string; touch: string; timeout: number; db?: string; json: boolean };

/** Opens the store and fills what both bisections take from their flags; closes the store after `run`. */
export async function withBisect<T>(f: BisectFlagValues, run: (common: BisectCommon) => Promise<T>): Promise<T> {
  const { source, db } = sourceFor(f);
  const store: Store = storeFor(f.db ?? db);
  try {
    return await run({
      store,
      session: store.beginSession(process.argv.slice(2)),
      source,
      trace: f.trace,
      options: { ...replayOptions(f), metric: f.metric as 'time' | 'instructions' },
      thresholdPct: Number(f.threshold),
      attribution: !f['no-attribution'],
      onStep: (s) => {
        if (!f.json) process.stderr.write(`${stepLine(s)}\n`);
      },
    });
  } finally {
    store.close();
  }
}

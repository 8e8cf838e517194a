import { Flags } from '@oclif/core';
import { type BisectCommon, type BisectResult, type BisectStep, loadConfig, resolveTargetSpec, SHARE_WARN_PCT, type SourceTarget } from '../engine/index.js';
import { signedPct, type Store } from '../reports/index.js';
import { type Metric, METRICS, type PaceMode, type ReplayMode, type TouchPolicy, usageError } from '../traces/index.js';
import { dbFlag, inlineSourceFlags, inlineTarget, replayFlags, replayOptions, storeFor, thresholdFlag } from './common.js';
import { bold, green, red, table } from './render.js';

/** Flags both bisect commands take. */
export const bisectCommandFlags = {
  target: Flags.string({ description: 'a source target (tinyslab, or one of allocreplay.yaml)' }),
  ...inlineSourceFlags,
  trace: Flags.string({ description: 'the trace that shows the change', required: true }),
  threshold: thresholdFlag('percent beyond the good figure that counts as bad'),
  improvement: Flags.boolean({ description: 'find the change that made it better (--good is still the old end: the older commit, or the baseline flags)' }),
  'no-attribution': Flags.boolean({ description: 'skip the per-function callgrind attribution' }),
  ...replayFlags,
  metric: Flags.option({ description: 'instructions (exact, the default) or time (the final pair is measured again with 3× --repeat)', options: METRICS, default: 'instructions' })(),
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

const short = (rev: string): string => (/^[0-9a-f]{40}$/.test(rev) ? rev.slice(0, 10) : rev);
const num = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** One line per step, as it happens, like `git bisect log`. */
export function stepLine(s: Pick<BisectStep, 'probe' | 'value' | 'verdict' | 'subject'>): string {
  const v = s.value === null ? 'build failed' : num(s.value);
  const verdict = s.verdict === 'bad' ? red('bad ') : s.verdict === 'good' ? green('good') : 'skip';
  return `# ${verdict} ${short(s.probe)}  ${v}${s.subject ? `  ${s.subject}` : ''}`;
}

function renderShare(r: BisectResult): string[] {
  const s = r.share;
  if (!s) return [];
  const of = `${signedPct((s.stepDelta / r.good.value) * 100)} of ${signedPct((s.totalDelta / r.good.value) * 100)}`;
  const what = r.kind === 'commits' ? 'this commit' : `the change ${Object.entries(r.culprits ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  if (s.explainsMost) return [`${what} explains ${s.pct.toFixed(0)}% of the whole change (${of})`];
  const out = [`${red('warning:')} ${what} explains only ${s.pct.toFixed(0)}% of the whole change (${of}, under ${SHARE_WARN_PCT}%): the rest lies elsewhere`];
  if (r.kind === 'flags') out.push('    the other flag changes, or their interactions, hold the rest: see each flag alone above');
  for (const n of s.next) out.push(`    bisect next: --good ${short(n.good)} --bad ${short(n.bad)}  (${signedPct(n.deltaPct)}${n.beyondThreshold ? '' : ', under the threshold on its own'})`);
  return out;
}

function renderConfirmation(r: BisectResult): string[] {
  const c = r.confirmation;
  if (!c) return [];
  const figures = `${signedPct(c.deltaPct)}, 95% CI ×${c.ci[0].toFixed(3)}…×${c.ci[1].toFixed(3)}, p = ${c.p.toPrecision(2)}, ${c.good.n} + ${c.bad.n} interleaved repetitions`;
  if (!c.withinNoise) return [`confirmed: ${short(c.good.commit)} → ${short(c.bad.commit)} measured again: ${figures}`];
  return [
    `${red('warning:')} the step ${short(c.good.commit)} → ${short(c.bad.commit)} is within noise (${figures}${c.note ? `; ${c.note}` : ''}): the named commit may be wrong`,
    '    rerun with a larger --repeat, or with --metric instructions (exact)',
  ];
}

function renderEffects(r: BisectResult): string[] {
  if (!r.effects?.length) return [];
  const rows = r.effects.map((e) => [e.flag, `${e.from} → ${e.to}`, e.value === null ? 'build failed' : num(e.value), e.deltaPct === null ? '' : signedPct(e.deltaPct), e.flag === r.dominant ? bold('dominant') : '']);
  const out = [bold('each changed flag alone on the good configuration'), table(['flag', 'change', 'value', 'Δ', ''], rows)];
  const d = r.effects.find((e) => e.flag === r.dominant);
  if (d) out.push(`dominant flag: ${d.flag}=${d.to} (${signedPct(d.deltaPct!)} on its own)`);
  else out.push(`no flag passes the threshold on its own: the ${r.direction} needs flag changes together`);
  return out;
}

export function renderBisect(r: BisectResult): string {
  const out: string[] = [];
  const better = r.direction === 'improvement';
  if (r.outcome === 'candidates' && r.candidates) {
    out.push(bold(`only skipped (unbuildable) commits are left to test: the first ${better ? 'improved' : 'bad'} commit is one of`));
    for (const c of r.candidates) out.push(`${c.commit} ${c.subject}${c.skipped ? '  (skipped: does not build or run)' : ''}`);
  }
  const fb = r.firstBadCommit;
  if (fb) {
    out.push(
      `${bold(`${fb.commit} is the first ${better ? 'commit that made it better' : 'bad commit'}`)}\n    ${fb.subject}\n    ${signedPct(fb.deltaPct)} (${num(fb.lastGood?.value ?? r.good.value)} → ${num(fb.value)}${fb.lastGood ? `, against ${short(fb.lastGood.commit)} ${fb.lastGood.subject}` : ''})`,
    );
  }
  out.push(...renderEffects(r));
  if (r.culprits) out.push(`${bold(`smallest set of flag changes that reproduces the ${r.direction}:`)} ${Object.entries(r.culprits).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  out.push(...renderShare(r), ...renderConfirmation(r));
  out.push(`${r.steps.length} steps, ${r.builds} builds; bisection ${r.id} (allocreplay bisect show ${r.id})`);
  if (r.attribution.length) {
    out.push(`\n${bold('functions by instruction delta (bad − good)')}`);
    const n = (x: number): string => `${x > 0 ? '+' : ''}${x.toLocaleString('en-US')}`;
    out.push(table(['function', 'self Δ', 'inclusive Δ', 'self good', 'self bad'], r.attribution.map((a) => [a.function, n(a.selfDelta), n(a.inclDelta), a.goodSelf.toLocaleString('en-US'), a.badSelf.toLocaleString('en-US')])));
  }
  return out.join('\n');
}

/** The options a bisection ran with, on one line (what tells two bisections apart in `bisect show`). */
export function renderSpec(spec: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const k of ['metric', 'mode', 'touch', 'pace', 'paceScale', 'warmup', 'repeat', 'threshold', 'direction']) if (spec[k] !== undefined) parts.push(`${k} ${spec[k]}${k === 'threshold' ? '%' : ''}`);
  if (spec.firstParent) parts.push('first-parent');
  const flags = spec.flags as Record<string, string> | undefined;
  if (flags && Object.keys(flags).length) parts.push(`flags ${Object.entries(flags).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return parts.join(', ');
}

type BisectFlagValues = { target?: string; repo?: string; build?: string; artifact?: string[]; flag?: string[]; trace: string; threshold: number; improvement: boolean; 'no-attribution': boolean; metric: Metric; repeat: number; warmup: number; mode: ReplayMode; touch?: TouchPolicy; pace?: PaceMode; 'pace-scale'?: number; timeout: number; db?: string; json: boolean };

/** Opens the store and fills what both bisections take from their flags; closes the store after `run`. */
export async function withBisect<T>(f: BisectFlagValues, run: (common: BisectCommon) => Promise<T>): Promise<T> {
  const thresholdPct = f.threshold;
  const { source, db } = sourceFor(f);
  const store: Store = storeFor(f.db ?? db);
  try {
    return await run({
      store,
      session: store.beginSession(process.argv.slice(2)),
      source,
      trace: f.trace,
      options: replayOptions(f),
      thresholdPct,
      attribution: !f['no-attribution'],
      improvement: f.improvement,
      onStep: (s) => {
        if (!f.json) process.stderr.write(`${stepLine(s)}\n`);
      },
    });
  } finally {
    store.close();
  }
}

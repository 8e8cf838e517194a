/** What `allocreplay demo` prints: each answer under its question, then a one-paragraph summary. */
import type { DemoResult } from '../engine/index.js';
import { checkSummary, type Metric, renderSweep, type SweepReport } from '../reports/index.js';
import { bold, dim, renderMatrix, table } from './render.js';

const signed = (x: number | undefined, digits = 1): string => (x === undefined ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}%`);
const fig = (v: number | undefined, metric: Metric): string => (v === undefined ? '—' : metric === 'time' ? `${v.toFixed(2)} ns/op` : `${Math.round(v).toLocaleString('en-US')} Ir`);

/** The figure of a dip row, by trace and metric. */
function dipOf(r: DemoResult, trace: string, metric: Metric): DemoResult['dip'][number] | undefined {
  return r.dip.find((d) => d.trace === trace && d.metric === metric);
}

/** The functions whose cost moved most, as `name +N` (instructions, self). */
function movedFunctions(r: DemoResult, n = 4): string[] {
  return [...r.bisect.attribution]
    .sort((a, b) => Math.abs(b.selfDelta) - Math.abs(a.selfDelta))
    .slice(0, n)
    .map((a) => `${a.function} ${a.selfDelta > 0 ? '+' : ''}${a.selfDelta.toLocaleString('en-US')}`);
}

export function renderDemo(r: DemoResult, sweep: SweepReport | undefined, reportPath: string): string {
  const out: string[] = [];
  out.push(bold('Allocators'), renderMatrix(r.allocators.outcomes, 'time'), '');
  out.push(bold(`1. A refactor dip in tinyslab's history (${r.history.commits.length} commits in ${r.history.repo})`));
  out.push(
    table(
      ['trace', 'metric', `first ${r.history.commits[0]!.commit.slice(0, 7)}`, `last ${r.history.commits.at(-1)!.commit.slice(0, 7)}`, 'change'],
      r.dip.map((d) => [d.trace, d.metric, fig(d.first, d.metric), fig(d.last, d.metric), signed(d.deltaPct)]),
    ),
  );
  out.push('', `${bold('report check')} (last vs first, instructions, threshold ${r.check.thresholdPct}%): ${r.check.regression ? 'FAILS — a CI job would exit 1' : 'passes'}`);
  out.push(dim(checkSummary(r.check).trim()));
  const fb = r.bisect.firstBadCommit;
  out.push('', `${bold('bisect')} (instructions on random-mixed-256${r.bisect.stored ? ', stored earlier' : ''}): ${r.bisect.steps.length} steps, ${r.bisect.builds} builds`);
  if (fb) out.push(`  first bad commit ${fb.commit.slice(0, 10)} ${bold(fb.subject)} (${signed(fb.deltaPct)} instructions)`);
  if (r.bisect.attribution.length) {
    const rows = [...r.bisect.attribution].sort((a, b) => Math.abs(b.selfDelta) - Math.abs(a.selfDelta)).slice(0, 8);
    const n = (x: number): string => `${x > 0 ? '+' : ''}${x.toLocaleString('en-US')}`;
    out.push(table(['function', 'self Δ', 'inclusive Δ', 'self before', 'self after'], rows.map((a) => [a.function, n(a.selfDelta), n(a.inclDelta), a.goodSelf.toLocaleString('en-US'), a.badSelf.toLocaleString('en-US')])));
  }
  out.push('', bold(`2. Soft-cap tuning: ${r.sweep.flag} × working sets`));
  if (sweep) out.push(renderSweep(sweep, 'table'));
  out.push('', bold(`3. Profile-guided tinyslab (trained on ${r.pgo.training.join(', ')})`));
  if (r.pgo.error) out.push(`  the profile-guided build failed: ${r.pgo.error}`);
  out.push(table(['trace', 'in training', 'plain', 'PGO', 'throughput'], r.pgo.rows.map((p) => [p.trace, p.inTraining ? 'yes' : 'no', fig(p.plain, 'time'), fig(p.pgo, 'time'), signed(p.gainPct)])));
  out.push('', bold('Summary'), summaryParagraph(r), '', `report: ${reportPath}`);
  return out.join('\n');
}

/** The story in one paragraph: the dip, the commit, the functions, the best soft cap, the PGO gain. */
export function summaryParagraph(r: DemoResult): string {
  const t256 = dipOf(r, 'random-mixed-256', 'time');
  const t8192 = dipOf(r, 'random-mixed-8192', 'time');
  const i256 = dipOf(r, 'random-mixed-256', 'instructions');
  const fb = r.bisect.firstBadCommit;
  const parts: string[] = [];
  parts.push(
    `Between the first and last of ${r.history.commits.length} commits, tinyslab got ${signed(t256?.deltaPct)} slower on random-mixed at 256 slots (${signed(i256?.deltaPct)} instructions) and ${signed(t8192?.deltaPct)} at 8192 slots, and \`report check\` ${r.check.regression ? 'fails' : 'passes'} on it.`,
  );
  if (fb) parts.push(`Bisection names ${fb.commit.slice(0, 10)} "${fb.subject}"; the cost moved in ${movedFunctions(r).join(', ')} (instructions, self).`);
  const best = r.sweep.best;
  const dflt = r.sweep.points.find((p) => p.trace === best?.trace && p.value === '32');
  if (best && best.value === '32') parts.push(`At 8192 slots the default ${r.sweep.flag}=32 is already the fastest (${fig(best.nsPerOp, 'time')}, ${best.fallbacks ?? '?'} fallbacks).`);
  else if (best) parts.push(`At 8192 slots the best ${r.sweep.flag} is ${best.value} (${fig(best.nsPerOp, 'time')}, ${best.fallbacks ?? '?'} fallbacks) against ${fig(dflt?.nsPerOp, 'time')} and ${dflt?.fallbacks ?? '?'} fallbacks at the default 32.`);
  const inT = r.pgo.rows.filter((p) => p.inTraining && p.gainPct !== undefined);
  const outT = r.pgo.rows.filter((p) => !p.inTraining && p.gainPct !== undefined);
  const mean = (xs: typeof inT): number => xs.reduce((s, p) => s + p.gainPct!, 0) / xs.length;
  const gain = (xs: typeof inT): string => (xs.length ? signed(mean(xs)) : 'no figure');
  if (inT.length || outT.length) parts.push(`A profile-guided build trained on ${r.pgo.training.length} workloads changes throughput by ${gain(inT)} on traces in its training set and ${gain(outT)} on traces outside it (mean over ${inT.length} and ${outT.length} traces).`);
  else if (r.pgo.error) parts.push(`The profile-guided build failed: ${r.pgo.error}.`);
  return parts.join(' ');
}

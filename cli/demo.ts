/**
 * What `allocreplay demo` prints: each answer under its question, then a
 * one-paragraph summary. A claim ("slower", "faster", "gain", "best") is
 * printed only with its interval and only when the interval excludes no
 * change; otherwise the line says "no clear difference (±x%)". Every line
 * fits 120 columns: configurations are named by what tells them apart.
 */
import { type Change, DEFAULT_SOFT_CAP, DEMO_TRACES, type DemoBisection, type DemoResult, isClear, type SweepAnswer, type SweepPoint, SWEEP_JUDGED, TIME_THRESHOLD_PCT } from '../engine/index.js';
import { fidelityVerdict, ratioWithUncertainty, renderFidelity, signedPct, type TimingWarningKind, timingWarnings } from '../reports/index.js';
import type { Metric } from '../traces/index.js';
import { bold, dim, table } from './render.js';

const signed = (x: number | undefined, digits = 1): string => signedPct(x ?? NaN, digits);
const ns = (v: number | undefined): string => (v === undefined ? '—' : `${v.toFixed(2)} ns/op`);
const ir = (v: number | undefined): string => (v === undefined ? '—' : `${Math.round(v).toLocaleString('en-US')} Ir`);

/** The widest distance of the interval from "no change", percent. */
function halfWidthPct(c: Change): number {
  return Math.max(Math.abs(c.ci[0] - 1), Math.abs(c.ci[1] - 1)) * 100;
}

/**
 * A change B ÷ A in words: exact counts as a signed percentage; a timed
 * change as `1.15 ± 0.03× slower` (or faster) when its interval excludes 1,
 * else `no clear difference (±x%)`.
 */
export function claim(c: Change | undefined, unit = 'ns/op'): string {
  if (!c) return '—';
  if (c.ci[0] === c.ci[1]) return `${signed((c.ratio - 1) * 100)} (exact)`;
  if (!isClear(c)) return `no clear difference (±${halfWidthPct(c).toFixed(1)}%)`;
  return `${signed((c.ratio - 1) * 100)} ${unit}: ${ratioWithUncertainty(c.ratio, c.ci)}`;
}

/** The allocator table: one row per allocator (named by target), median ns/op ± MAD and % of system per trace. */
function allocatorTable(r: DemoResult): string[] {
  const outcomes = r.allocators.outcomes;
  const traces = [...new Set(outcomes.map((o) => o.trace))];
  const targets = [...new Set(outcomes.map((o) => o.target))];
  const sys = (trace: string): number | undefined => outcomes.find((o) => o.trace === trace && o.target === 'system')?.nsPerOp;
  const cell = (target: string, trace: string): string => {
    const o = outcomes.find((x) => x.trace === trace && x.target === target);
    if (!o || o.status !== 'ok' || o.nsPerOp === undefined) return o?.status ?? '—';
    const share = sys(trace) ? ` ${Math.round((sys(trace)! / o.nsPerOp) * 100)}%` : '';
    const fb = o.allocatorStats?.cap_fallbacks !== undefined ? ` fb=${o.allocatorStats.cap_fallbacks}` : '';
    return `${o.nsPerOp.toFixed(2)} ± ${(o.nsPerOpSpread ?? 0).toFixed(2)}${share}${fb}`;
  };
  const out = [table(['allocator', ...traces], targets.map((t) => [t, ...traces.map((tr) => cell(t, tr))]))];
  out.push(dim('median ns/op ± MAD; N% = throughput as a share of the system allocator; fb = tinyslab soft-cap fallbacks'));
  // The traces are long enough for the timer: what doubts remain are about this machine, counted in one line.
  const kinds = outcomes.filter((o) => o.status === 'ok' && !o.skipped).map((o) => new Set(timingWarnings(o.samples).map((w) => w.kind)));
  const count = (k: TimingWarningKind): number => kinds.filter((s) => s.has(k)).length;
  const doubts = [count('outliers') && `${count('outliers')} with outlying repetitions`, count('spread') && `${count('spread')} with a MAD over 5%`, count('cold') && `${count('cold')} with a slow first repetition`, count('short') && `${count('short')} timed under 5 ms`].filter(Boolean);
  if (doubts.length) out.push(dim(`of ${outcomes.length} configurations: ${doubts.join(', ')} (the machine's noise; see the intervals)`));
  return out;
}

function dipTable(r: DemoResult): string {
  const rows = r.dip.map((d) => [d.trace, d.metric, d.metric === 'time' ? ns(d.first) : ir(d.first), d.metric === 'time' ? ns(d.last) : ir(d.last), claim(d.change)]);
  return table(['trace', 'metric', `first ${r.history.commits[0]!.commit.slice(0, 7)}`, `last ${r.history.commits.at(-1)!.commit.slice(0, 7)}`, 'last vs first'], rows);
}

/** A bisection's answer in a few lines: steps, the first bad commit, and (time) the final pair judged with its interval. */
function bisectLines(b: DemoBisection, on: string, thresholdPct: number): string[] {
  const what = `${bold('bisect')} by ${b.metric} on ${on}`;
  if ('refused' in b) return [`${what}: nothing to bisect: ${b.refused}`];
  const out = [`${what}${b.stored ? ' (stored earlier)' : ''}: ${b.steps.length} steps, ${b.builds} builds`];
  const fb = b.firstBadCommit;
  if (!fb) return [...out, '  no single commit named: only commits that do not build were left'];
  const delta = b.metric === 'instructions' ? `${signed(fb.deltaPct)} instructions, exact` : `${signed(fb.deltaPct)} ns/op in medians`;
  const c = b.confirmation;
  out.push(`  ${c?.withinNoise ? 'the medians point at' : 'first bad commit'} ${fb.commit.slice(0, 10)} (${delta})`, `    ${bold(fb.subject)}`);
  if (c) {
    const again = `that step measured again (${c.repeat} a side): ${claim({ ratio: c.bad.median / c.good.median, ci: c.ci, n: [c.good.n, c.bad.n] })}${c.withinNoise ? `: not clearly past ${thresholdPct}%, so no commit is named` : ''}`;
    out.push(...wrap(again, 116).map((l) => `  ${l}`));
  }
  return out;
}

function attributionTable(b: DemoBisection): string[] {
  if ('refused' in b || !b.attribution.length) return [];
  const rows = [...b.attribution].sort((x, y) => Math.abs(y.selfDelta) - Math.abs(x.selfDelta)).slice(0, 8);
  const n = (x: number): string => `${x > 0 ? '+' : ''}${x.toLocaleString('en-US')}`;
  return [table(['function', 'self Δ', 'inclusive Δ', 'self before', 'self after'], rows.map((a) => [a.function.slice(0, 40), n(a.selfDelta), n(a.inclDelta), a.goodSelf.toLocaleString('en-US'), a.badSelf.toLocaleString('en-US')]))];
}

function timelineTable(r: DemoResult): string {
  const subject = (x: string): string => (x.length > 44 ? `${x.slice(0, 43)}…` : x);
  return table(['commit', 'subject', 'ns/op', 'vs first'], r.timeline.map((p, i) => [p.commit.slice(0, 7), subject(p.subject), ns(p.nsPerOp), i ? claim(p.change) : '']));
}

function sweepTable(r: DemoResult): string {
  const traces = [...new Set(r.sweep.points.map((p) => p.trace))];
  const values = [...new Set(r.sweep.points.map((p) => p.value))].sort((a, b) => Number(a) - Number(b));
  const cell = (v: string, t: string): string => {
    const p = r.sweep.points.find((x) => x.trace === t && x.value === v);
    return p?.nsPerOp === undefined ? '—' : `${p.nsPerOp.toFixed(2)} ns/op fb=${p.fallbacks ?? '?'}`;
  };
  return table([r.sweep.flag, ...traces], values.map((v) => [v === DEFAULT_SOFT_CAP ? `${v} (default)` : v, ...traces.map((t) => cell(v, t))]));
}

/** The sweep's answer on the judged trace: a winner only when its interval against the default (or runner-up) excludes 1. */
export function sweepClaim(flag: string, a: SweepAnswer | undefined): string {
  if (!a) return `No answer at ${SWEEP_JUDGED}: fewer than two ${flag} values were measured there.`;
  const pct = halfWidthPct(a.speedup).toFixed(1);
  if (!a.clear) return `At ${a.trace} no ${flag} is clearly fastest: ${a.best.value} against ${a.against.value}, no clear difference (±${pct}%).`;
  const times = ratioWithUncertainty(a.speedup.ratio, [a.speedup.ci[0], a.speedup.ci[1]]).replace('slower', 'faster');
  const removed = (p: SweepPoint): string => (a.dflt.fallbacks !== undefined && p.fallbacks !== undefined ? `${(a.dflt.fallbacks - p.fallbacks).toLocaleString('en-US')} fewer fallbacks (${a.dflt.fallbacks.toLocaleString('en-US')} → ${p.fallbacks.toLocaleString('en-US')})` : 'fallbacks not counted');
  if (a.alike.length > 1) {
    // Several values tie with the best: the claim is about them together, and the least of them is enough.
    const least = a.alike[0]!;
    const names = a.alike.map((p) => p.value).join(', ');
    if (a.alike.includes(a.dflt)) return `At ${a.trace} no ${flag} is clearly fastest: ${names} show no clear difference.`;
    return `At ${a.trace} ${flag} ${names} tie (no clear difference among them); the best is ${times} than the default ${a.dflt.value}, and the least, ${least.value}, already has ${removed(least)}.`;
  }
  if (a.best === a.dflt) return `At ${a.trace} the default ${flag}=${a.dflt.value} is fastest: ${times} than ${a.against.value}.`;
  return `At ${a.trace} ${flag}=${a.best.value} wins: ${times} than the default ${a.dflt.value}, ${removed(a.best)}.`;
}

function pgoTable(r: DemoResult): string {
  // pgo ÷ plain below 1 is a gain: the claim reads "faster".
  return table(['trace', 'in training', 'plain', 'PGO', 'PGO vs plain'], r.pgo.rows.map((p) => [p.trace, p.inTraining ? 'yes' : 'no', ns(p.plain), ns(p.pgo), claim(p.change)]));
}

export function renderDemo(r: DemoResult, reportPath: string): string {
  const out: string[] = [];
  out.push(bold('Allocators'), ...allocatorTable(r), '');
  out.push(bold(`1. A refactor dip in tinyslab's history (${r.history.commits.length} commits)`), dim(`   in ${r.history.repo}`));
  out.push(dipTable(r));
  out.push(dim('time: median of interleaved repetitions, ± half the 95% CI of the ratio; instructions: callgrind, exact'));
  out.push('', `${bold('report check')} (last vs first, instructions, threshold ${r.check.thresholdPct}%): ${r.check.regression ? 'FAILS — a CI job would exit 1' : 'passes'}`);
  for (const row of r.check.rows) out.push(`  ${row.trace}: ${signed(row.deltaPct, 2)} instructions, ${row.verdict}`);
  out.push('', ...bisectLines(r.bisect, `random-mixed-256 (its ${(DEMO_TRACES.rm256x!.params.ops! / 1000).toFixed(0)}k-event twin, threshold ${r.check.thresholdPct}%)`, r.check.thresholdPct), ...attributionTable(r.bisect));
  out.push('', bold('every commit timed on random-mixed-256'), dim('(repetitions interleaved across all commits; the time bisection judges from these runs)'), timelineTable(r));
  out.push('', ...bisectLines(r.bisectTime, `random-mixed-256 (threshold ${TIME_THRESHOLD_PCT}%)`, TIME_THRESHOLD_PCT));
  out.push('', bold(`2. Soft-cap tuning: ${r.sweep.flag} × working sets`), sweepTable(r), dim('median ns/op per value; fb = soft-cap fallbacks'), ...wrap(sweepClaim(r.sweep.flag, r.sweep.answer), 120));
  out.push('', bold('3. Profile-guided tinyslab'), dim(`   trained on ${r.pgo.training.join(', ')}`));
  if (r.pgo.error) out.push(`  the profile-guided build failed: ${r.pgo.error}`);
  out.push(pgoTable(r));
  out.push('', bold('4. Does a replay predict the program? perl, recorded, run live and replayed'));
  if (r.fidelity.error) out.push(`  no fidelity table: ${r.fidelity.error}`);
  else out.push(dim(`   ${r.fidelity.trace}${r.fidelity.stored ? ' (stored earlier)' : ''}`), renderFidelity(r.fidelity.groups));
  out.push('', bold('Summary'), ...wrap(summaryParagraph(r), 120), '', `report: ${reportPath}`);
  return out.join('\n');
}

/** Words folded into lines of at most `width` columns. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}

const dipOf = (r: DemoResult, trace: string, metric: Metric): Change | undefined => r.dip.find((d) => d.trace === trace && d.metric === metric)?.change;

/** The bisection's answer in a clause. */
function bisectClause(b: DemoBisection): string {
  if ('refused' in b) return `by ${b.metric} there was nothing to bisect`;
  const fb = b.firstBadCommit;
  if (fb && b.confirmation?.withinNoise) return `by ${b.metric} no commit is named (its last step, measured again, is not clearly past ${TIME_THRESHOLD_PCT}%)`;
  return fb ? `by ${b.metric} it names ${fb.commit.slice(0, 10)} "${fb.subject}"` : `by ${b.metric} no single commit is named`;
}

/** The story in one paragraph: the dip with its intervals, the commits named, the soft cap's answer, the PGO gain. */
export function summaryParagraph(r: DemoResult): string {
  const parts: string[] = [];
  const t256 = dipOf(r, 'random-mixed-256', 'time');
  const t8192 = dipOf(r, 'random-mixed-8192', 'time');
  const i256 = dipOf(r, 'random-mixed-256', 'instructions');
  parts.push(
    `From the first to the last of ${r.history.commits.length} commits, tinyslab on random-mixed at 256 slots: ${claim(t256)} in time (instructions ${claim(i256)}); at 8192 slots: ${claim(t8192)} in time. \`report check\` ${r.check.regression ? 'fails' : 'passes'} on it.`,
  );
  parts.push(`Bisection: ${bisectClause(r.bisect)}; ${bisectClause(r.bisectTime)}.`);
  parts.push(sweepClaim(r.sweep.flag, r.sweep.answer));
  const pooled = (c: Change | undefined, where: string): string => (c ? `${claim(c)} ${where}` : `no figure ${where}`);
  if (r.pgo.rows.some((p) => p.change)) parts.push(`Profile-guided tinyslab against the plain build: ${pooled(r.pgo.pooled.inTraining, 'on traces in its training set')}, ${pooled(r.pgo.pooled.outside, 'on traces outside it')} (geometric mean over traces).`);
  else if (r.pgo.error) parts.push(`The profile-guided build failed: ${r.pgo.error}.`);
  const f = r.fidelity.groups[0];
  if (f) parts.push(`Replaying perl's recording (${f.mode}) against running it live under ${f.targets.length + 1} allocators: ${fidelityVerdict(f)}.`);
  return parts.join(' ');
}

/**
 * The fidelity report's renderings: per recording × replay mode a table of
 * targets (live Δ, replay Δ, share, each with its 95% CI) and a line on rank
 * agreement, then one summary line per group; markdown, csv and json alike;
 * and the HTML section with a chart of live Δ beside replay Δ.
 */
import type { TopLevelSpec } from 'vega-lite';
import { FIDELITY_GOALS, type FidelityGroup } from '../compare/fidelity.js';
import { signed } from '../compare/labels.js';
import { bold, csv, dim, markdownTable, table } from './text.js';

/** A signed duration in the unit that suits it: `-1.04 s`, `+240.1 ms`, `-85 µs` (the sign as signedPct puts it). */
export function signedDuration(ns: number): string {
  return Number.isFinite(ns) ? signed(ns, duration(ns)) : '—';
}

/** A duration's magnitude in the unit that suits it: `1.04 s`, `240.1 ms`, `85 µs`. */
function duration(ns: number): string {
  const a = Math.abs(ns);
  return a >= 1e9 ? `${(a / 1e9).toFixed(2)} s` : a >= 1e6 ? `${(a / 1e6).toFixed(1)} ms` : `${(a / 1e3).toFixed(0)} µs`;
}

const interval = (ci: readonly [number, number] | null, f: (v: number) => string): string => (ci && Number.isFinite(ci[0]) ? `${f(ci[0])} … ${f(ci[1])}` : '—');
const shareText = (v: number | null): string => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(2));
const tauText = (t: number | null): string => (t === null ? '—' : t.toFixed(2));
const goal = (ok: boolean | null): string => (ok === null ? 'cannot tell' : ok ? 'met' : 'NOT met');

/** What a group's verdict says in words: both goals, each met or not, and why a share cannot be judged. */
export function fidelityVerdict(g: FidelityGroup): string {
  return fidelityVerdictParts(g).join('; ');
}

/** The verdict's two parts, ranks and share (a table prints them on lines of their own, to fit 120 columns). */
function fidelityVerdictParts(g: FidelityGroup): [string, string] {
  const clear = !g.pairs ? '' : g.pairs.clear ? `, ${g.pairs.agree} of the ${g.pairs.clear} pair${g.pairs.clear === 1 ? '' : 's'} the live runs tell apart ordered alike` : ', the live runs tell no pair apart';
  const ranks = `ranks ${goal(g.ranksAgree)} (τ ${tauText(g.tau)}, goal ≥ ${FIDELITY_GOALS.tau.toFixed(2)}${clear})`;
  const share = g.headline ? `share ${goal(g.carriesShare)} (${shareText(g.headline.share)} of ${g.headline.target}'s live Δ, goal ${FIDELITY_GOALS.shareLow} … ${FIDELITY_GOALS.shareHigh})` : 'share cannot be judged (no target differs clearly from the baseline live)';
  return [ranks, share];
}

const title = (g: FidelityGroup): string => `${g.recording} — ${g.program}`;
const subtitle = (g: FidelityGroup): string => `replay ${g.mode}; ${g.clock === 'cpu' ? 'CPU time; ' : ''}baseline ${g.baseline}: live ${duration(g.baselineLiveNs)}, replay ${duration(g.baselineReplayNs)}`;

export type FidelityFormat = 'table' | 'markdown' | 'csv' | 'json';

/** The fidelity report as text (table or markdown), csv or json. */
export function renderFidelity(groups: FidelityGroup[], format: FidelityFormat = 'table'): string {
  if (format === 'json') return JSON.stringify(groups, null, 2);
  if (format === 'csv') {
    return csv(
      ['recording', 'program', 'mode', 'baseline', 'target', 'live_delta_ns', 'live_ci_low', 'live_ci_high', 'replay_delta_ns', 'replay_ci_low', 'replay_ci_high', 'share', 'share_ci_low', 'share_ci_high', 'live_clear', 'tau'],
      groups.flatMap((g) => g.targets.map((t) => [g.recording, g.program, g.mode, g.baseline, t.target, t.liveDeltaNs, t.liveCi[0], t.liveCi[1], t.replayDeltaNs, t.replayCi[0], t.replayCi[1], t.share, t.shareCi?.[0] ?? null, t.shareCi?.[1] ?? null, t.liveClear, g.tau])),
    );
  }
  const md = format === 'markdown';
  const head = ['target', 'live Δ', '95% CI', 'replay Δ', '95% CI', 'share', '95% CI'];
  const parts = groups.map((g) => {
    const rows = g.targets.map((t) => [
      t.target,
      signedDuration(t.liveDeltaNs),
      interval(t.liveCi, signedDuration),
      signedDuration(t.replayDeltaNs),
      interval(t.replayCi, signedDuration),
      t.liveClear ? shareText(t.share) : 'no clear live Δ',
      t.liveClear ? interval(t.shareCi, (v) => v.toFixed(2)) : '',
    ]);
    const body = md ? markdownTable(head, rows) : table(head, rows);
    return md ? `**${title(g)}**\n\n_${subtitle(g)}_\n\n${body}\n\n${fidelityVerdict(g)}` : `${bold(title(g))}\n${dim(subtitle(g))}\n${body}\n${fidelityVerdictParts(g).join('\n')}`;
  });
  const note = `Δ: median wall under the target minus under the baseline (live: the whole program; replay: the timed region);\nshare: replay Δ ÷ live Δ; τ: Kendall's rank agreement over every target measured both ways; 95% CIs by bootstrap.`;
  if (groups.length > 1) parts.push((md ? (s: string) => s : bold)('summary'), fidelitySummary(groups, format));
  parts.push(md ? note.split('\n').map((l) => `_${l}_`).join('\n') : dim(note));
  return parts.join('\n\n');
}

/** One line per recording × mode: the headline target's live and replay Δ, the share, τ, and the verdict. */
export function fidelitySummary(groups: FidelityGroup[], format: 'table' | 'markdown' = 'table'): string {
  const head = ['recording', 'replay mode', 'target', 'live Δ', 'replay Δ', 'share', 'τ', 'goals'];
  const rows = groups.map((g) => {
    const t = g.targets.find((x) => x.target === g.headline?.target);
    const met = `ranks ${goal(g.ranksAgree)}, share ${goal(g.carriesShare)}`;
    return [g.recording, g.mode, t?.target ?? '—', t ? signedDuration(t.liveDeltaNs) : '—', t ? signedDuration(t.replayDeltaNs) : '—', shareText(g.headline?.share ?? null), tauText(g.tau), met];
  });
  return format === 'markdown' ? markdownTable(head, rows) : table(head, rows);
}

/** Live Δ beside replay Δ per target, with their 95% CIs, in ms. */
export function fidelityChart(g: FidelityGroup): TopLevelSpec {
  const data = g.targets.flatMap((t) => [
    { target: t.target, what: 'live', ms: t.liveDeltaNs / 1e6, lo: t.liveCi[0] / 1e6, hi: t.liveCi[1] / 1e6 },
    { target: t.target, what: 'replay', ms: t.replayDeltaNs / 1e6, lo: t.replayCi[0] / 1e6, hi: t.replayCi[1] / 1e6 },
  ]);
  const y = { field: 'target', type: 'nominal', title: null, sort: null } as const;
  const yOffset = { field: 'what', type: 'nominal', sort: ['live', 'replay'] } as const;
  const x = { type: 'quantitative', title: `Δ against ${g.baseline}, ms (whiskers: 95% CI)` } as const;
  const color = { field: 'what', type: 'nominal', scale: { domain: ['live', 'replay'], range: ['#4c78a8', '#f58518'] }, title: null } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 400,
    data: { values: data },
    layer: [
      { mark: { type: 'bar', height: { band: 0.8 } }, encoding: { y, yOffset, x: { field: 'ms', ...x }, color } },
      { mark: { type: 'rule', color: '#222' }, encoding: { y, yOffset, x: { field: 'lo', ...x }, x2: { field: 'hi' } } },
    ],
  } as TopLevelSpec;
}

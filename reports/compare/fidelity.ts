/**
 * Fidelity: how well replays of a recording predict its program run live.
 * For each recorded trace whose program has live runs, and each replay mode
 * it was replayed in, every target measured both ways is set against a
 * baseline target: the live Δ (median wall of the program under the target
 * minus under the baseline) and the replay Δ (the same for the replay's
 * timed region), each with a bootstrap 95% CI; the share of the live
 * difference the replay carries (replay Δ ÷ live Δ); and Kendall's τ between
 * the two orderings of all targets measured both ways. Only one machine's
 * timings are set side by side.
 */
import { canonicalJson, type Configuration } from '../identity/index.js';
import type { RunRow, SampleRow, Store } from '../store/index.js';
import { selectRuns, type Selector } from '../select/index.js';
import { bootstrapDiffCI, bootstrapShareCI, kendallTau, median } from '../stats/index.js';

/**
 * The goals a replay mode is judged by, per recording: τ of at least 2/3
 * (four allocators: at most one of their six pairs ordered otherwise than
 * live; printed 0.67), and a share between half and twice.
 */
export const FIDELITY_GOALS = { tau: 2 / 3, shareLow: 0.5, shareHigh: 2 } as const;
/** τ is a ratio of pair counts: equal to the goal within rounding counts as reaching it. */
const TAU_EPSILON = 1e-9;

/** One target of one recording replayed in one mode, beside the live runs. */
export interface FidelityTarget {
  /** The target's label (what distinguishes it among the targets of the recording). */
  target: string;
  /** Live Δ against the baseline: median wall (ns), with its 95% CI. */
  liveDeltaNs: number;
  liveCi: [number, number];
  /** Replay Δ against the baseline: median timed-region wall (ns), with its 95% CI. */
  replayDeltaNs: number;
  replayCi: [number, number];
  /** replay Δ ÷ live Δ, with its 95% CI; null when the live Δ is 0. */
  share: number | null;
  shareCi: [number, number] | null;
  /** Whether the live Δ's CI excludes 0 (otherwise there is no live difference to carry). */
  liveClear: boolean;
  liveRuns: number;
  replayRuns: number;
  /** Medians (ns): live wall and replay timed region. */
  liveNs: number;
  replayNs: number;
}

/** A recording × replay mode: its targets, rank agreement and whether it meets the goals. */
export interface FidelityGroup {
  recording: string;
  recordingChecksum: string;
  program: string;
  /** The replay options, as `key=value` words (`serial touch=none warmup=1 …`). */
  mode: string;
  options: Configuration['options'];
  /** What the figures are: wall time or CPU time. */
  clock: FidelityClock;
  baseline: string;
  /** Live and replay medians of the baseline (ns). */
  baselineLiveNs: number;
  baselineReplayNs: number;
  targets: FidelityTarget[];
  /** Kendall τ-b between the live and replay orderings of every target measured both ways (baseline included); null under 2. */
  tau: number | null;
  /** Pairs of targets (the baseline among them) the live runs tell apart, and how many the replay orders the same way. */
  pairs: { clear: number; agree: number };
  /** The share of the target with the largest clear live difference (null when no live difference is clear). */
  headline: { target: string; share: number | null } | null;
  /** Goal by goal: τ ≥ 0.67; headline share in [0.5, 2]. null where it cannot be judged. */
  ranksAgree: boolean | null;
  carriesShare: boolean | null;
}

export interface FidelityOptions {
  /** The baseline target's name (default `system`). */
  baseline?: string;
  /** Runs considered, as a selector (trace names select recordings; live runs of their programs come along). */
  selector?: Selector | string;
  /** What is compared: wall time (default) or CPU time (user + system), which a busy machine disturbs less. */
  clock?: FidelityClock;
}

/** Wall time, or CPU time (user + system). */
export const FIDELITY_CLOCKS = ['wall', 'cpu'] as const;
export type FidelityClock = (typeof FIDELITY_CLOCKS)[number];

/** What identifies the allocator of a configuration, minus how it was run: the key that pairs a live run with replays. */
function allocatorKey(c: Configuration): string {
  const { name: _n, options: _o, ...rest } = c;
  return canonicalJson(rest);
}

const modeText = (o: Configuration['options']): string => {
  const { mode, ...rest } = o as unknown as Record<string, unknown>;
  return [String(mode), ...Object.keys(rest).sort().map((k) => `${k}=${String(rest[k])}`)].join(' ');
};

interface Side {
  label: string;
  name: string;
  values: number[];
  runs: number;
}

function collect(runs: RunRow[], samples: Map<number, Pick<SampleRow, 'wallNs' | 'cpuNs'>[]>, clock: FidelityClock): Map<string, Side> {
  const out = new Map<string, Side>();
  // Given oldest first, targets keep the order they were first measured in.
  for (const r of runs) {
    const c = r.configuration;
    if (!c) continue;
    const k = allocatorKey(c);
    const side = out.get(k) ?? { label: c.name, name: c.name, values: [], runs: 0 };
    side.runs++;
    for (const s of samples.get(r.id) ?? []) {
      const v = clock === 'cpu' ? s.cpuNs : s.wallNs;
      if (v !== null) side.values.push(v);
    }
    out.set(k, side);
  }
  return out;
}

/**
 * The fidelity report over what the store holds: one group per recording ×
 * replay mode that has live runs of its program and replays of at least the
 * baseline and one other target, on this database's machines (each machine
 * on its own).
 */
export function fidelityReport(store: Store, opts: FidelityOptions = {}): FidelityGroup[] {
  const baseline = opts.baseline ?? 'system';
  const clock = opts.clock ?? 'wall';
  const recordings = store.db.prepare("SELECT id, checksum, name, program FROM traces WHERE program IS NOT NULL AND producer != 'live' ORDER BY id").all() as { id: number; checksum: string; name: string; program: string }[];
  const programs = new Map((store.db.prepare("SELECT checksum, name FROM traces WHERE producer = 'live'").all() as { checksum: string; name: string }[]).map((r) => [r.checksum, r.name]));
  const picked = selectRuns(store, opts.selector, { metric: 'time' });
  // Live runs come along whatever the selector picks of the replays.
  const all = opts.selector ? selectRuns(store, undefined, { metric: 'time' }) : picked;
  const groups: FidelityGroup[] = [];
  for (const rec of recordings) {
    const liveChecksum = `program:${rec.program}`;
    if (!programs.has(liveChecksum)) continue;
    const replays = picked.runs.filter((r) => r.traceChecksum === rec.checksum && r.configuration && r.configuration.options.mode !== 'live');
    if (!replays.length) continue;
    const lives = all.runs.filter((r) => r.traceChecksum === liveChecksum && r.configuration?.options.mode === 'live');
    for (const machine of new Set(replays.map((r) => r.machine))) {
      const live = collect(lives.filter((r) => r.machine === machine), all.samples, clock);
      const byMode = new Map<string, RunRow[]>();
      // Modes in the order they were first measured (runs come newest first).
      for (const r of replays.filter((x) => x.machine === machine).reverse()) {
        const m = canonicalJson(r.configuration!.options);
        byMode.set(m, [...(byMode.get(m) ?? []), r]);
      }
      for (const runs of byMode.values()) {
        const g = groupOf(rec.name, rec.checksum, programs.get(liveChecksum)!, runs[0]!.configuration!.options, baseline, live, collect(runs, picked.samples, clock), clock);
        if (g) groups.push(g);
      }
    }
  }
  return groups;
}

/**
 * The pairs of targets the live runs tell apart (the 95% CI of their live
 * difference excludes 0) and how many of them the replay orders the same
 * way. A pair the live program cannot order has no order to predict; τ
 * counts it anyway, so both are shown.
 */
export function clearPairs(live: readonly (readonly number[])[], replay: readonly number[]): { clear: number; agree: number } {
  let clear = 0;
  let agree = 0;
  for (let i = 0; i < live.length; i++)
    for (let j = i + 1; j < live.length; j++) {
      const [lo, hi] = bootstrapDiffCI(live[i]!, live[j]!);
      if (!(lo > 0 || hi < 0)) continue;
      clear++;
      const liveSign = Math.sign(median(live[j]!) - median(live[i]!));
      if (Math.sign(replay[j]! - replay[i]!) === liveSign) agree++;
    }
  return { clear, agree };
}

/** One recording × mode from its live and replay sides (keyed by allocator); undefined without the baseline and one more target. */
export function groupOf(recording: string, checksum: string, program: string, options: Configuration['options'], baseline: string, live: Map<string, Side>, replay: Map<string, Side>, clock: FidelityClock = 'wall'): FidelityGroup | undefined {
  const both = [...replay.keys()].filter((k) => live.has(k) && live.get(k)!.values.length && replay.get(k)!.values.length);
  const baseKey = both.find((k) => replay.get(k)!.name === baseline);
  if (!baseKey || both.length < 2) return undefined;
  const bl = live.get(baseKey)!.values;
  const br = replay.get(baseKey)!.values;
  const targets: FidelityTarget[] = [];
  for (const k of both) {
    if (k === baseKey) continue;
    const l = live.get(k)!;
    const r = replay.get(k)!;
    const liveDeltaNs = median(l.values) - median(bl);
    const replayDeltaNs = median(r.values) - median(br);
    const liveCi = bootstrapDiffCI(bl, l.values);
    const replayCi = bootstrapDiffCI(br, r.values);
    const share = liveDeltaNs !== 0 ? replayDeltaNs / liveDeltaNs : null;
    targets.push({
      target: r.label,
      liveDeltaNs,
      liveCi,
      replayDeltaNs,
      replayCi,
      share,
      shareCi: share === null ? null : bootstrapShareCI(bl, l.values, br, r.values),
      liveClear: liveCi[0] > 0 || liveCi[1] < 0,
      liveRuns: l.values.length,
      replayRuns: r.values.length,
      liveNs: median(l.values),
      replayNs: median(r.values),
    });
  }
  const tau = kendallTau(both.map((k) => median(live.get(k)!.values)), both.map((k) => median(replay.get(k)!.values)));
  const pairs = clearPairs(both.map((k) => live.get(k)!.values), both.map((k) => median(replay.get(k)!.values)));
  const clear = targets.filter((t) => t.liveClear);
  const top = clear.reduce<FidelityTarget | undefined>((b, t) => (!b || Math.abs(t.liveDeltaNs) > Math.abs(b.liveDeltaNs) ? t : b), undefined);
  return {
    recording,
    recordingChecksum: checksum,
    program,
    mode: modeText(options),
    options,
    clock,
    baseline,
    baselineLiveNs: median(bl),
    baselineReplayNs: median(br),
    targets,
    tau,
    pairs,
    headline: top ? { target: top.target, share: top.share } : null,
    ranksAgree: tau === null ? null : tau >= FIDELITY_GOALS.tau - TAU_EPSILON,
    carriesShare: top?.share === null || top === undefined ? null : top.share >= FIDELITY_GOALS.shareLow && top.share <= FIDELITY_GOALS.shareHigh,
  };
}

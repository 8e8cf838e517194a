/** The demo's third question: what a profile-guided tinyslab gains over the plain build, in and out of its training set. */
import { bootstrapMediansCI, median, type Store } from '../../reports/index.js';
import { tinyslabTarget } from '../build/index.js';
import { buildWithPgo } from '../build/pgo.js';
import type { ReplayOptions } from '../driver/index.js';
import { makeJobs, type MeasureHooks, measure, planTrace, readyBuilt, readySource } from '../runner/index.js';
import { type Change, changeOf, valuesOf } from './story.js';

export interface PgoFinding {
  /** The training traces, by name. */
  training: string[];
  /** Per judged trace: median ns/op plain and profile-guided, the gain (plain ÷ pgo − 1, percent) and pgo ÷ plain with its interval. */
  rows: { trace: string; inTraining: boolean; plain: number | undefined; pgo: number | undefined; gainPct: number | undefined; change: Change | undefined; samples: { plain: number[]; pgo: number[] } }[];
  /** pgo ÷ plain over the traces in and out of the training set: the geometric mean of the per-trace ratios, with its interval. */
  pooled: { inTraining: Change | undefined; outside: Change | undefined };
  /** Why there is no profile-guided figure, when the build failed. */
  error?: string;
}

/** Builds tinyslab with PGO trained on `training` and measures it beside the plain build on `judged`. */
export async function pgoGain(store: Store, session: number, training: string[], judged: string[], options: ReplayOptions, hooks: MeasureHooks = {}): Promise<PgoFinding> {
  const source = tinyslabTarget();
  const trainers = training.map((t) => planTrace(store, t));
  const built = await buildWithPgo(source, trainers, { store, replay: options });
  const names = trainers.map((t) => t.name);
  const plain = readySource(store, source, undefined, {});
  const pgo = readyBuilt(source, built, {});
  const planned = judged.map((t) => planTrace(store, t));
  // The plain build's runs on these traces may be stored already (the allocator table, with fewer repetitions): the
  // missing ones are measured here, interleaved with the profile-guided build's, so machine drift falls on both alike.
  const outcomes = await measure(store, session, makeJobs(store, planned, [plain, pgo], options), options, { interleave: true }, hooks);
  const rows = planned.map((t) => {
    const at = (pgoSide: boolean): number[] => valuesOf(outcomes.find((o) => o.trace === t.name && (o.configuration.pgo !== undefined) === pgoSide), 'time');
    const p = at(false);
    const g = at(true);
    const mp = p.length ? median(p) : undefined;
    const mg = g.length ? median(g) : undefined;
    return { trace: t.name, inTraining: names.includes(t.name), plain: mp, pgo: mg, gainPct: mp && mg ? (mp / mg - 1) * 100 : undefined, change: changeOf(p, g), samples: { plain: p, pgo: g } };
  });
  const pooled = (inTraining: boolean): Change | undefined => pooledChange(rows.filter((r) => r.inTraining === inTraining && r.samples.plain.length && r.samples.pgo.length).map((r) => r.samples));
  return { training: names, rows, pooled: { inTraining: pooled(true), outside: pooled(false) }, ...(pgo.buildError ? { error: pgo.buildError } : {}) };
}

/** The geometric mean over traces of median(pgo) ÷ median(plain), with a bootstrap interval resampling every side. */
export function pooledChange(sides: { plain: number[]; pgo: number[] }[]): Change | undefined {
  if (!sides.length) return undefined;
  const samples = sides.flatMap((s) => [s.plain, s.pgo]);
  const geo = (m: readonly number[]): number => Math.exp(sides.reduce((sum, _s, i) => sum + Math.log(m[2 * i + 1]! / m[2 * i]!), 0) / sides.length);
  const ratio = geo(samples.map((x) => median(x)));
  return { ratio, ci: bootstrapMediansCI(samples, geo), n: [sides.reduce((n, s) => n + s.plain.length, 0), sides.reduce((n, s) => n + s.pgo.length, 0)] };
}

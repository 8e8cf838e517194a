/** The demo's third question: what a profile-guided tinyslab gains over the plain build, in and out of its training set. */
import type { Store } from '../../reports/index.js';
import { tinyslabTarget } from '../build/index.js';
import { buildWithPgo } from '../build/pgo.js';
import type { ReplayOptions } from '../driver/index.js';
import { makeJobs, type MeasureHooks, measure, planTrace, readyBuilt, readySource } from '../runner/index.js';

export interface PgoFinding {
  /** The training traces, by name. */
  training: string[];
  /** Per judged trace: ns/op plain and profile-guided, and the gain (plain ÷ pgo − 1, percent). */
  rows: { trace: string; inTraining: boolean; plain: number | undefined; pgo: number | undefined; gainPct: number | undefined }[];
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
  // The plain build's runs on these traces may be stored already (the allocator table): twice the repetitions here
  // gives both builds repetitions measured side by side, interleaved, so machine drift falls on both alike.
  const opts = { ...options, repeat: options.repeat * 2 };
  const outcomes = await measure(store, session, makeJobs(store, planned, [plain, pgo], opts), opts, { interleave: true }, hooks);
  const rows = planned.map((t) => {
    const at = (pgoSide: boolean): number | undefined => outcomes.find((o) => o.trace === t.name && (o.configuration.pgo !== undefined) === pgoSide)?.nsPerOp;
    const p = at(false);
    const g = at(true);
    return { trace: t.name, inTraining: names.includes(t.name), plain: p, pgo: g, gainPct: p && g ? (p / g - 1) * 100 : undefined };
  });
  return { training: names, rows, ...(pgo.buildError ? { error: pgo.buildError } : {}) };
}

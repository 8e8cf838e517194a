import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Store } from '../../reports/index.js';
import { generate } from '../../traces/index.js';
import type { ReplayOptions } from '../driver/index.js';
import { listTargets } from '../targets/index.js';
import type { MeasureHooks, Outcome } from './measure.js';
import { type MatrixResult, runMatrix } from './matrix.js';

/** The demo's traces: hakmem's random_mixed at 256 and 8192 slots, tiny_hot at 16 B. */
export const DEMO_TRACES: { file: string; generator: string; params: Record<string, number> }[] = [
  { file: 'random-mixed-256.trace.msgpack', generator: 'random-mixed', params: { slots: 256, ops: 1_000_000, seed: 42 } },
  { file: 'random-mixed-8192.trace.msgpack', generator: 'random-mixed', params: { slots: 8192, ops: 1_000_000, seed: 42 } },
  { file: 'tiny-hot-16.trace.msgpack', generator: 'tiny-hot', params: { size: 16, ops: 1_000_000 } },
];

export interface DemoFindings {
  /** ns/op with TS_TLS_CACHE=0 ÷ with 1 (TS_POOL=1), per trace. */
  tlsCacheCost: { trace: string; ratio: number }[];
  /** tinyslab's soft-cap fallbacks on the 8192-slot trace, per TS_POOL. */
  capFallbacks8192: { pool: string; fallbacks: number }[];
}

/** Generates the demo traces (once) and runs the demo matrix. */
export async function runDemo(store: Store, sessionId: number, dir: string, options: ReplayOptions, hooks: Parameters<typeof runMatrix>[4] = {}): Promise<MatrixResult & { findings: DemoFindings; traces: string[] }> {
  mkdirSync(dir, { recursive: true });
  const traces = DEMO_TRACES.map((t) => {
    const path = resolve(join(dir, t.file));
    if (!existsSync(path)) generate(t.generator, t.params, path);
    return path;
  });
  const packaged = listTargets()
    .filter((t) => t.kind === 'preload' && t.available)
    .map((t) => t.name);
  const result = await runMatrix(
    store,
    sessionId,
    { traces, targets: ['system', 'tinyslab', ...packaged], revs: [], set: { TS_POOL: ['1', '2'], TS_TLS_CACHE: ['0', '1'] }, env: {}, exclude: [], options, force: false },
    undefined,
    hooks,
  );
  return { ...result, traces, findings: findings(result.outcomes) };
}

function findings(outcomes: Outcome[]): DemoFindings {
  const ts = (trace: string, pool: string, tls: string): Outcome | undefined =>
    outcomes.find((o) => o.trace === trace && o.target === 'tinyslab' && o.configuration.flags.TS_POOL === pool && o.configuration.flags.TS_TLS_CACHE === tls);
  const tlsCacheCost = DEMO_TRACES.map((t) => t.file.replace(/\.trace\.msgpack$/, '')).flatMap((trace) => {
    const off = ts(trace, '1', '0')?.nsPerOp;
    const on = ts(trace, '1', '1')?.nsPerOp;
    return off && on ? [{ trace, ratio: off / on }] : [];
  });
  const capFallbacks8192 = ['1', '2'].flatMap((pool) => {
    const o = ts('random-mixed-8192', pool, '1');
    return o?.allocatorStats?.cap_fallbacks !== undefined ? [{ pool, fallbacks: o.allocatorStats.cap_fallbacks }] : [];
  });
  return { tlsCacheCost, capFallbacks8192 };
}

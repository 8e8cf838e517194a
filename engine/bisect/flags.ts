import { usageError } from '../../traces/index.js';
import { calibrateTraces, planTrace } from '../runner/index.js';
import { attributionFor, bisectionSpec, checkEnds, finish, hasChange, makeCtx, open, type Measurement, probe, record, SHARE_WARN_PCT } from './probe.js';
import type { BisectCommon, BisectResult, BisectStep, FlagEffect } from './types.js';

/** `A=0 B=1` or `A=0,B=1` → {A: '0', B: '1'}. */
export function parseAssignment(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tok of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([A-Za-z_]\w*)=(.*)$/.exec(tok);
    if (!m) throw usageError(`'${tok}' is not NAME=value`, "write flags as 'A=0 B=1'");
    out[m[1]!] = m[2]!;
  }
  return out;
}

const label = (a: Record<string, string>): string =>
  Object.keys(a)
    .sort()
    .map((k) => `${k}=${a[k]}`)
    .join(' ');

/**
 * Which flag changes from the good assignment to the bad one cause the
 * change. First each changed flag alone on the good assignment (its own
 * effect); the one with the largest effect in the bisection's direction is
 * the dominant flag. When one passes the threshold alone, it is the answer;
 * otherwise delta debugging (ddmin) finds the smallest set of changes that
 * reproduces it together — an interaction.
 */
export async function bisectFlags(c: BisectCommon & { good: Record<string, string>; bad: Record<string, string> }): Promise<BisectResult> {
  const trace = planTrace(c.store, c.trace);
  await calibrateTraces(c.store, [trace], c.options);
  const spec = bisectionSpec('flags', c, trace, { good: c.good, bad: c.bad });
  const ctx = makeCtx(c, trace, 'flags', spec);
  // One probe per assignment; each is a step the first time it is measured.
  const probes = new Map<string, { m: Measurement; verdict: BisectStep['verdict'] }>();
  const measureAssignment = async (a: Record<string, string>, verdictOf: (m: Measurement) => BisectStep['verdict']): Promise<{ m: Measurement; verdict: BisectStep['verdict'] }> => {
    const key = label(a);
    let p = probes.get(key);
    if (!p) {
      const m = await probe(ctx, undefined, a);
      p = { m, verdict: verdictOf(m) };
      probes.set(key, p);
      record(ctx, { probe: key, value: m.value, verdict: p.verdict }, m);
    }
    return p;
  };
  const g = (await measureAssignment(c.good, () => 'good')).m;
  const b = (await measureAssignment(c.bad, () => 'bad')).m;
  if (g.value === null || b.value === null) throw usageError(`cannot bisect: the ${g.value === null ? 'good' : 'bad'} configuration does not build or run`, 'check both assignments build');
  const gv = g.value;
  checkEnds(ctx, gv, b.value, `'${label(c.bad)}'`);
  open(ctx);
  const changes = [...new Set([...Object.keys(c.good), ...Object.keys(c.bad)])].filter((k) => c.good[k] !== c.bad[k]).sort();
  const apply = (subset: string[]): Record<string, string> => {
    const a = { ...c.good };
    for (const k of subset) {
      if (c.bad[k] === undefined) delete a[k];
      else a[k] = c.bad[k]!;
    }
    return a;
  };
  const judge = (m: Measurement): BisectStep['verdict'] => (m.value === null ? 'skip' : hasChange(ctx, gv, m.value) ? 'bad' : 'good');
  const fails = async (subset: string[]): Promise<boolean> => (await measureAssignment(apply(subset), judge)).verdict === 'bad';

  const effects: FlagEffect[] = [];
  for (const k of changes) {
    const { m, verdict } = await measureAssignment(apply([k]), judge);
    effects.push({ flag: k, from: c.good[k] ?? '(unset)', to: c.bad[k] ?? '(unset)', value: m.value, deltaPct: m.value === null ? null : ((m.value - gv) / gv) * 100, verdict });
  }
  const sign = ctx.direction === 'improvement' ? -1 : 1;
  const dominant = effects.filter((e) => e.verdict === 'bad').sort((x, y) => sign * (y.deltaPct! - x.deltaPct!) || x.flag.localeCompare(y.flag))[0];

  let cur = dominant ? [dominant.flag] : changes;
  // ddmin (Zeller & Hildebrandt): split into n parts; keep a failing part or complement.
  let n = 2;
  while (!dominant && cur.length >= 2) {
    const size = Math.ceil(cur.length / n);
    const parts: string[][] = [];
    for (let i = 0; i < cur.length; i += size) parts.push(cur.slice(i, i + size));
    let reduced = false;
    for (const p of parts) {
      if (await fails(p)) {
        cur = p;
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && parts.length > 2) {
      for (const p of parts) {
        const comp = cur.filter((x) => !p.includes(x));
        if (await fails(comp)) {
          cur = comp;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  const culprits = Object.fromEntries(cur.map((k) => [k, c.bad[k] ?? '(unset)']));
  const final = (await measureAssignment(apply(cur), judge)).m;
  const stepDelta = (final.value ?? gv) - gv;
  const totalDelta = b.value - gv;
  const pct = (stepDelta / totalDelta) * 100;
  const attributionRows = c.attribution && c.options.metric === 'instructions' ? await attributionFor(ctx, g.library, final.library) : [];
  return finish(ctx, {
    outcome: 'found',
    good: { probe: label(c.good), value: gv },
    bad: { probe: label(c.bad), value: b.value },
    culprits,
    effects,
    ...(dominant ? { dominant: dominant.flag } : {}),
    share: { pct, stepDelta, totalDelta, explainsMost: pct >= SHARE_WARN_PCT, next: [] },
    attribution: attributionRows,
  });
}

/**
 * Op codes live on four sides that must agree number for number: the trace
 * format's `Op` (traces/vocabulary.ts), the trace writer's `TRACE_OP_*`
 * (traces/native/trace_out.h), the recorder's stream `R_*`
 * (traces/native/raw_log.h; convert.c writes those codes into traces as they
 * are, and asserts at compile time that they are TRACE_OP_*) and the
 * driver's plan `AR_*` (engine/native/plan.h). A probe compiled against the
 * three headers prints what C means by each code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileNative, Op, OP_NAMES } from '../../traces/index.js';
import { ROOT } from '../helpers.js';

const RAW_LOG = join(ROOT, 'traces/native/raw_log.h');
const PLAN = join(ROOT, 'engine/native/plan.h');
const TRACE_OUT = join(ROOT, 'traces/native/trace_out.h');

/** The enumerators of the enum in `header` that declares `first`, in order. */
function enumerators(header: string, first: string): string[] {
  const text = readFileSync(header, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const body = [...text.matchAll(/enum\s*\w*\s*\{([^}]*)\}/g)].map((m) => m[1]!).find((b) => new RegExp(`\\b${first}\\b`).test(b));
  if (body === undefined) throw new Error(`${header}: no enum declares ${first}`);
  return body
    .split(',')
    .map((e) => e.split('=')[0]!.trim())
    .filter(Boolean);
}

describe('op codes', () => {
  it('TRACE_OP_* (trace_out.h), R_* (raw_log.h) and AR_* (plan.h) are the trace format\'s Op, code for code, and name no op Op lacks', () => {
    const probe = compileNative({ name: 'opcodes-probe', sources: [join(ROOT, 'test/traces/probes/opcodes.c')], deps: [RAW_LOG, PLAN, TRACE_OUT, join(ROOT, 'traces/native/sha256.h')] });
    const c = Object.fromEntries(
      execFileSync(probe, { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => {
          const [name, value] = l.split(' ');
          return [name!, Number(value)];
        }),
    );
    const expected = Object.fromEntries(OP_NAMES.flatMap((n) => [`TRACE_OP_${n.toUpperCase()}`, `R_${n.toUpperCase()}`, `AR_${n.toUpperCase()}`].map((k) => [k, Op[n]])));
    expect(c).toEqual(expected);
    // Every code the headers declare is one the probe printed: an op added in C alone fails here.
    expect([...enumerators(TRACE_OUT, 'TRACE_OP_MALLOC'), ...enumerators(RAW_LOG, 'R_MALLOC'), ...enumerators(PLAN, 'AR_MALLOC')].sort()).toEqual(Object.keys(expected).sort());
  });
});

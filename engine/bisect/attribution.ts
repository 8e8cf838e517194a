import { spawnSync } from 'node:child_process';

/** One function's instruction cost in a callgrind profile. */
export interface FunctionCost {
  function: string;
  file?: string;
  selfIr: number;
  inclIr: number;
}

/** Per-function self and inclusive Ir of a callgrind output file (via callgrind_annotate). */
export function profileFunctions(callgrindOut: string): FunctionCost[] {
  const read = (inclusive: boolean): Map<string, { ir: number; file?: string }> => {
    const r = spawnSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, '--auto=no', '--threshold=100', callgrindOut], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const lines = (r.stdout ?? '').split('\n');
    const out = new Map<string, { ir: number; file?: string }>();
    // The per-function table follows the header "Ir  file:function" and a dashed rule.
    const head = lines.findIndex((l) => /^Ir\s+file:function/.test(l));
    for (const line of head < 0 ? [] : lines.slice(head + 2)) {
      if (line.trim() === '' || line.startsWith('---')) break;
      // "17,002,832 (21.35%)  path/file.c:function [object]"
      const m = /^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(.*?)\s*(?:\[[^\]]*\])?\s*$/.exec(line);
      if (!m) continue;
      const where = m[2]!;
      const colon = where.search(/:[^/]*$/);
      const file = colon > 0 && /[./]/.test(where.slice(0, colon)) ? where.slice(0, colon) : undefined;
      // Builds live in per-build directories: functions are keyed by name and file base name.
      const fn = file ? where.slice(colon + 1) : where;
      const ir = Number(m[1]!.replace(/,/g, ''));
      const prev = out.get(fn);
      out.set(fn, { ir: (prev?.ir ?? 0) + ir, ...(file ? { file: file.split('/').pop()! } : {}) });
    }
    return out;
  };
  const self = read(false);
  const incl = read(true);
  const names = new Set([...self.keys(), ...incl.keys()]);
  return [...names].map((fn) => ({ function: fn, ...(self.get(fn)?.file ?? incl.get(fn)?.file ? { file: self.get(fn)?.file ?? incl.get(fn)?.file } : {}), selfIr: self.get(fn)?.ir ?? 0, inclIr: incl.get(fn)?.ir ?? 0 }));
}

export interface FunctionDelta {
  function: string;
  goodSelf: number;
  badSelf: number;
  selfDelta: number;
  goodIncl: number;
  badIncl: number;
  inclDelta: number;
}

/**
 * The name a function is merged under. callgrind_annotate writes one frame
 * several ways: `???:` when the object has no debug information, a symbol
 * version (`__libc_start_main@@GLIBC_2.34`), and the same name once per
 * object (`(below main)` from libc and from the dynamic loader).
 */
export function functionKey(name: string): string {
  return name.replace(/^\?\?\?:/, '').replace(/@@?[\w.]+$/, '');
}

/** Entries of one profile with the same key, merged: self costs add up; inclusive costs may nest, so the largest stands. */
function merged(costs: FunctionCost[]): Map<string, FunctionCost> {
  const out = new Map<string, FunctionCost>();
  for (const f of costs) {
    const key = functionKey(f.function);
    const had = out.get(key);
    const file = had?.file ?? f.file;
    out.set(key, { function: key, ...(file ? { file } : {}), selfIr: (had?.selfIr ?? 0) + f.selfIr, inclIr: Math.max(had?.inclIr ?? 0, f.inclIr) });
  }
  return out;
}

/**
 * Functions by instruction delta between two profiles, largest (by self,
 * then inclusive) first. One row per function name; a function whose own
 * (self) cost did not change is left out — its inclusive delta is its
 * callees', which have rows of their own.
 */
export function attribute(good: FunctionCost[], bad: FunctionCost[], limit = 20): FunctionDelta[] {
  const g = merged(good);
  const b = merged(bad);
  const rows: FunctionDelta[] = [];
  for (const fn of new Set([...g.keys(), ...b.keys()])) {
    const x = g.get(fn);
    const y = b.get(fn);
    const row = { function: fn, goodSelf: x?.selfIr ?? 0, badSelf: y?.selfIr ?? 0, selfDelta: (y?.selfIr ?? 0) - (x?.selfIr ?? 0), goodIncl: x?.inclIr ?? 0, badIncl: y?.inclIr ?? 0, inclDelta: (y?.inclIr ?? 0) - (x?.inclIr ?? 0) };
    if (row.selfDelta !== 0) rows.push(row);
  }
  rows.sort((p, q) => Math.abs(q.selfDelta) - Math.abs(p.selfDelta) || Math.abs(q.inclDelta) - Math.abs(p.inclDelta) || p.function.localeCompare(q.function));
  return rows.slice(0, limit);
}

/**
 * What every report needs to tell configurations apart on screen: labels
 * that never collide, the words for a run that did not finish, and a
 * configuration's identity apart from its revision (what a history line
 * keeps fixed).
 */
import type { RunRow, Store } from '../store/index.js';

/** The key of one row on screen: a configuration on a machine. Rows are never keyed by label. */
export const rowKey = (r: { configHash: string; machine: string }): string => `${r.configHash}\0${r.machine}`;

/**
 * Labels that differ between distinct rows: when two rows (distinct
 * configuration hashes) share a label, each of them gets ` [hash8]` so a
 * reader can tell them apart and select either with `config=`. Labels that
 * are already unique are returned unchanged.
 */
export function distinctLabels(rows: readonly { configHash: string; machine: string; label: string }[]): Map<string, string> {
  const keysOf = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = keysOf.get(r.label) ?? new Set<string>();
    set.add(rowKey(r));
    keysOf.set(r.label, set);
  }
  const out = new Map<string, string>();
  for (const r of rows) {
    const k = rowKey(r);
    if (out.has(k)) continue;
    out.set(k, keysOf.get(r.label)!.size > 1 ? `${r.label} [${r.configHash.slice(0, 8)}]` : r.label);
  }
  return out;
}

/**
 * What a run that gave no figure says in a cell: `crashed: SIGSEGV`,
 * `timeout`, `failed`, `alloc-failed` (any other status by its name).
 * `ok` for a run that finished.
 */
export function statusText(run: Pick<RunRow, 'status' | 'signal'>): string {
  const status: string = run.status;
  if (status === 'crashed') return `crashed: ${run.signal ?? 'signal'}`;
  return status;
}

/**
 * Per configuration hash, its identity apart from the revision, flattened
 * to `NAME=value` entries (target, kind, each flag, each env var, each
 * replay option). Read straight from the configurations table so that every
 * column the store keeps — including ones added later — takes part.
 */
export function identities(store: Store, hashes: readonly string[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  if (hashes.length === 0) return out;
  const rows = store.db.prepare('SELECT * FROM configurations WHERE hash IN (SELECT value FROM json_each(?))').all(JSON.stringify([...new Set(hashes)])) as Record<string, unknown>[];
  for (const row of rows) {
    const flat: Record<string, string> = {};
    for (const [col, v] of Object.entries(row)) {
      // The revision (and whatever names the commit or its uncommitted edits) varies along a line; id, hash and label follow from the rest.
      if (['id', 'hash', 'label'].includes(col) || /revision|commit|dirty/i.test(col) || v === null) continue;
      const parsed = typeof v === 'string' && /^[{[]/.test(v) ? tryJson(v) : undefined;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [k, x] of Object.entries(parsed as Record<string, unknown>)) if (!/revision|commit|dirty|^name$/i.test(k)) flat[`${col}.${k}`] = typeof x === 'string' ? x : JSON.stringify(x);
      } else flat[col] = String(v);
    }
    out.set(row.hash as string, flat);
  }
  return out;
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/**
 * The parts of each identity that differ between them (`mode=threads
 * TS_POOL=2`), in a stable order: what a reader needs to tell the items
 * apart. Column prefixes (`flags.`, `options.`) are dropped from the names.
 */
export function differingParts(ids: readonly Record<string, string>[]): string[] {
  const keys = [...new Set(ids.flatMap((i) => Object.keys(i)))].sort();
  const varying = keys.filter((k) => new Set(ids.map((i) => i[k] ?? '')).size > 1);
  return ids.map((i) =>
    varying
      .filter((k) => i[k] !== undefined)
      .map((k) => `${k.replace(/^[a-z_]+\./, '')}=${i[k]}`)
      .join(' '),
  );
}

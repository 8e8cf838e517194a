/**
 * What every report needs to tell configurations apart on screen: one
 * label pass that names a set of configurations by what differs between
 * them, the words for a run that did not finish, the one signed
 * percentage, and a configuration's identity apart from its revision (what
 * a history line keeps fixed).
 */
import { type Configuration, configurationFields, configurationHash } from '../identity/index.js';
import type { Store } from '../store/index.js';

/** The key of one row on screen: a configuration on a machine. Rows are never keyed by label. */
export const rowKey = (r: { configHash: string; machine: string }): string => `${r.configHash}\0${r.machine}`;

/** One thing a table names: a configuration on a machine. */
export interface Nameable {
  configHash: string;
  /** Host name ('' when every item is of this machine). */
  machine: string;
  /** The full label as stored: read only when the canonical configuration is not at hand (rows stored before it was). */
  label: string;
  configuration?: Configuration | null;
}

/** How the label pass names a set. */
export interface NameOptions {
  /** Every field, not only what differs (the reports' `--long`). */
  long?: boolean;
  /** Fields never shown: a history line leaves out `rev` and `dirty`, which vary along it, and `target`, which its axis names. */
  omit?: readonly string[];
}

/** The fields of one item, in configurationFields' order, the machine last and by host name. */
function fieldsOf(x: Nameable): [string, string][] {
  if (x.configuration) {
    const out = configurationFields(x.configuration).filter(([k]) => k !== 'machine');
    out.push(['machine', x.machine || x.configuration.machine.slice(0, 8)]);
    return out;
  }
  // A stored full label: `target@rev+dirty.x NAME=value …` (the form configurationLabel writes).
  const [head = '', ...rest] = x.label.split(' ');
  const m = /^(.*?)(?:@([^+]*))?(?:\+dirty\.(.*))?$/.exec(head)!;
  const out: [string, string][] = [['target', m[1]!]];
  if (m[2]) out.push(['rev', m[2]]);
  if (m[3]) out.push(['dirty', m[3]]);
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) !== 'machine') out.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  out.push(['machine', x.machine]);
  return out;
}

/** `tinyslab@abc1234+dirty.9f2 TS_POOL=2 mode=threads on host`: the fields given, in their order. */
function renderFields(fields: [string, string][]): string {
  const get = (k: string): string | undefined => fields.find(([f]) => f === k)?.[1];
  const target = get('target');
  const rev = get('rev');
  const dirty = get('dirty');
  const host = get('machine');
  const head = target !== undefined ? `${target}${rev ? `@${rev}` : ''}${dirty ? `+dirty.${dirty}` : ''}` : [rev ? `rev=${rev}` : '', dirty ? `dirty=${dirty}` : ''].filter(Boolean).join(' ');
  const rest = fields.filter(([k]) => !['target', 'rev', 'dirty', 'machine'].includes(k)).map(([k, v]) => `${k}=${v}`);
  return [head, ...rest, ...(host ? [`on ${host}`] : [])].filter(Boolean).join(' ');
}

/**
 * The one label pass (hyperfine and asv style): names each configuration
 * of a set by what tells it apart from the others in that set. The target
 * name is always shown, and so is a build of uncommitted changes
 * (`+dirty.…`); of every other field (revision, flags, environment, replay
 * options, machine) only those whose value differs among the items of the
 * same target (a field an item lacks counts as differing). Two items that
 * still read the same get ` #hash7`, the prefix `config=` selects. With
 * `long`, every field. Keyed by `rowKey`; an item listed twice is named once.
 */
export function configurationNames(items: readonly Nameable[], opts: NameOptions = {}): Map<string, string> {
  const omit = new Set(opts.omit ?? []);
  const unique = new Map<string, [string, string][]>();
  for (const x of items) if (!unique.has(rowKey(x))) unique.set(rowKey(x), fieldsOf(x).filter(([k]) => !omit.has(k)));
  const targetOf = (f: [string, string][]): string => f.find(([k]) => k === 'target')?.[1] ?? '';
  const groups = new Map<string, Map<string, string>[]>();
  for (const f of unique.values()) groups.set(targetOf(f), [...(groups.get(targetOf(f)) ?? []), new Map(f)]);
  const named = new Map<string, string>();
  for (const [key, f] of unique) {
    const group = groups.get(targetOf(f))!;
    const varies = (k: string): boolean => new Set(group.map((g) => g.get(k) ?? '\0')).size > 1;
    named.set(key, renderFields(opts.long ? f : f.filter(([k]) => k === 'target' || k === 'dirty' || varies(k))));
  }
  const owners = new Map<string, number>();
  for (const n of named.values()) owners.set(n, (owners.get(n) ?? 0) + 1);
  for (const [key, n] of named) if (owners.get(n)! > 1) named.set(key, `${n}${n ? ' ' : ''}#${key.slice(0, 7)}`);
  return named;
}

/** The label pass over bare configurations of this machine (jobs about to run): their names, in list order. */
export function labelConfigurations(list: readonly Configuration[], opts: NameOptions = {}): string[] {
  const items = list.map((configuration) => ({ configHash: configurationHash(configuration), machine: '', label: '', configuration }));
  const names = configurationNames(items, opts);
  return items.map((x) => names.get(rowKey(x))!);
}

/**
 * What a run that gave no figure says, everywhere it is shown (the
 * README's form): `crashed: SIGABRT at op 9998`, `timeout`, `failed`,
 * `alloc-failed` (any other status by its name); `ok` for a run that finished.
 */
export function statusText(run: { status: string; signal?: string | null; opIndex?: number | null }): string {
  if (run.status === 'crashed') return `crashed: ${run.signal ?? 'signal'}${run.opIndex !== undefined && run.opIndex !== null ? ` at op ${run.opIndex}` : ''}`;
  return run.status;
}

/**
 * The one signed percentage: `+1.23%`, `-0.40%`, and `0.00%` for what
 * rounds to zero (no sign on a zero, whichever side it came from); `—` for
 * no figure.
 */
export function signedPct(d: number, digits = 2): string {
  if (!Number.isFinite(d)) return '—';
  return signed(d, Math.abs(d).toFixed(digits), '%');
}

/**
 * The one sign rule for every signed figure (percentages, durations):
 * `+` above zero, `-` below, none on what `text` (the magnitude as printed)
 * rounds to zero.
 */
export function signed(value: number, text: string, unit = ''): string {
  if (Number(text.replace(/[^0-9.]/g, '')) === 0) return `${text}${unit}`;
  return `${value > 0 ? '+' : '-'}${text}${unit}`;
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

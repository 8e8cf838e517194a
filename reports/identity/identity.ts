/**
 * What a configuration is. A Configuration is the canonical, fully specified
 * thing every stored result belongs to: the target's identity, the resolved
 * revision (and a hash of uncommitted changes when the user opted in), every
 * declared compile-time flag with its default filled in, the runtime
 * environment, every replay option that changes what is measured, and the
 * machine. The engine computes it (one function, `engine/identity`); this
 * module owns its canonical text, its hash and its labels, so the store,
 * selectors and every report read it the same way.
 */
import { createHash } from 'node:crypto';
import type { PaceMode, TouchPolicy, WorkloadMode } from '../../traces/index.js';

/** How an allocator is reached, minus its display name (two names for one library are one target). */
export interface TargetIdentity {
  kind: 'system' | 'preload' | 'source';
  /** The preloaded library (preload). */
  library?: string;
  /** Repository or folder, build command template and artifact(s) (source). */
  repo?: string;
  build?: string;
  artifact?: string;
}

/** The replay options that change what is measured (repetitions and timeouts do not). */
export interface MeasureOptions {
  /** How the workload ran: a replay (serial, threads), or the recorded program itself (live). */
  mode: WorkloadMode;
  touch: TouchPolicy;
  warmup: number;
  /** Present only when not the default `none` (so every configuration measured before pacing keeps its hash). */
  pace?: Exclude<PaceMode, 'none'>;
  /** Work units per recorded µs; present exactly when `pace` is. */
  paceScale?: number;
}

export interface Configuration {
  /** Display name of the target (`system`, `jemalloc`, `tinyslab`, …); not part of the hash. */
  name: string;
  target: TargetIdentity;
  /** Full commit, `dir-…` content hash of a plain folder, or null (no build). */
  revision: string | null;
  /** Hash of the uncommitted changes built (only with --dirty), else null. */
  dirty: string | null;
  /** Every declared compile-time flag, defaults filled in. */
  flags: Record<string, string>;
  /** Runtime environment: the target's, runtime flags (defaults filled in) and --env. */
  env: Record<string, string>;
  options: MeasureOptions;
  /** The machine's stable key (reports/store `machineKey`). */
  machine: string;
  /** Profile-guided build: the training traces' checksums, sorted. Absent for every other build (their hashes stay as they were). */
  pgo?: { training: string[] };
}

/** JSON with sorted keys and no undefined members: the one text a configuration hashes from. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The hash that identifies a configuration everywhere (hex sha256 of its canonical form, name excluded). */
export function configurationHash(c: Configuration): string {
  const { name: _name, ...identity } = c;
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}

/** Every field of a configuration as `key=value` pairs, in one fixed order (the label's vocabulary). */
export function configurationFields(c: Configuration): [string, string][] {
  const out: [string, string][] = [['target', c.name]];
  if (c.revision) out.push(['rev', c.revision.startsWith('dir-') ? c.revision.slice(0, 12) : c.revision.slice(0, 7)]);
  if (c.dirty) out.push(['dirty', c.dirty.slice(0, 7)]);
  for (const k of Object.keys(c.flags).sort()) out.push([k, c.flags[k]!]);
  for (const k of Object.keys(c.env).sort()) out.push([k, c.env[k]!]);
  if (c.pgo) out.push(['pgo', pgoText(c.pgo.training)]);
  out.push(['mode', c.options.mode], ['touch', c.options.touch], ['warmup', String(c.options.warmup)]);
  if (c.options.pace) out.push(['pace', c.options.pace], ['pace_scale', String(c.options.paceScale)]);
  out.push(['machine', c.machine.slice(0, 8)]);
  return out;
}

/** A training set in a label: how many traces, and a short hash of their checksums. */
function pgoText(training: string[]): string {
  return `${training.length}:${createHash('sha256').update(training.join(',')).digest('hex').slice(0, 7)}`;
}

function render(fields: [string, string][]): string {
  const target = fields.find(([k]) => k === 'target')?.[1] ?? '';
  const rev = fields.find(([k]) => k === 'rev')?.[1];
  const dirty = fields.find(([k]) => k === 'dirty')?.[1];
  const rest = fields.filter(([k]) => k !== 'target' && k !== 'rev' && k !== 'dirty').map(([k, v]) => `${k}=${v}`);
  return [`${target}${rev ? `@${rev}` : ''}${dirty ? `+dirty.${dirty}` : ''}`, ...rest].join(' ');
}

/** The full label: every field (what is stored with the configuration). */
export function configurationLabel(c: Configuration): string {
  return render(configurationFields(c));
}


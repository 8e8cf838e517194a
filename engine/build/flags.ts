/**
 * Build flags: how each kind reaches a build, and the rules every flag obeys
 * wherever it comes from (allocreplay.yaml, the command line, a bisect spec).
 *
 * Shell safety is by construction: a flag name must be an identifier and a
 * value a run of characters no shell treats specially, so a placeholder
 * expands to the same words inside single quotes, double quotes or none.
 */
import { didYouMean, usageError } from '../../traces/index.js';

/** How a flag reaches the allocator. */
export type FlagKind = 'define' | 'make' | 'cmake' | 'configure' | 'env';
export const FLAG_KINDS: readonly FlagKind[] = ['define', 'make', 'cmake', 'configure', 'env'];

export interface FlagDef {
  kind: FlagKind;
  values?: string[];
  default?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters a compile-time value may hold: none of them is special to sh. */
const VALUE = /^[A-Za-z0-9_.+\-/:=,@%]*$/;

/** Throws a usage error unless `name` can be a flag (`where` says where it came from). */
export function checkFlagName(name: string, where: string): string {
  if (!NAME.test(name)) throw usageError(`${where}: '${name}' is not a flag name`, 'a flag name is letters, digits and _, not starting with a digit');
  return name;
}

/** Throws a usage error unless a compile-time value is safe in any build command. */
export function checkFlagValue(name: string, value: string, where: string): string {
  if (!VALUE.test(value)) throw usageError(`${where}: ${name}=${value}: the value has characters a build command cannot take safely`, 'use letters, digits and . + - / : = , @ %');
  return value;
}

/** The usage error for a flag no target declares. */
export function undeclaredFlag(name: string, target: string, declared: string[]): Error {
  const near = didYouMean(name, declared);
  if (declared.length === 0) return usageError(`target ${target} declares no flag ${name}`, `declare it (allocreplay.yaml flags:, or --flag ${name}=define:DEFAULT), or use --env for a runtime setting`);
  return usageError(`target ${target} has no flag ${name}${near ? ` (did you mean ${near}?)` : ''}`, `its flags: ${declared.join(', ')}`);
}

/**
 * The whole assignment of a target's flags: every declared flag with its
 * default filled in, the given values checked against the declaration.
 * An undeclared name is a usage error with a suggestion.
 */
export function fullAssignment(target: string, defs: Record<string, FlagDef>, given: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    const def = defs[name];
    if (!def) throw undeclaredFlag(name, target, Object.keys(defs));
    if (def.values && !def.values.includes(value)) throw usageError(`flag ${name}=${value} is not one of ${target}'s values for it (${def.values.join(', ')})`, `use ${name}=${def.values[0]}`);
    if (def.kind !== 'env') checkFlagValue(name, value, `target ${target}`);
    out[name] = value;
  }
  for (const [name, def] of Object.entries(defs)) if (!(name in out) && def.default !== undefined) out[name] = def.default;
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]!]));
}

/** What an assignment becomes: placeholder texts, compile-time flags (the build key) and runtime env. */
export interface FlagArgs {
  /** Placeholder → expansion: {cflags}, {make}, {cmake}, {configure}, and {NAME} for every compile-time flag. */
  placeholders: Record<string, string>;
  compile: Record<string, string>;
  env: Record<string, string>;
}

/** Splits a full assignment by kind. */
export function flagArgs(defs: Record<string, FlagDef>, assignment: Record<string, string>): FlagArgs {
  const words: Record<Exclude<FlagKind, 'env'>, string[]> = { define: [], make: [], cmake: [], configure: [] };
  const compile: Record<string, string> = {};
  const env: Record<string, string> = {};
  const placeholders: Record<string, string> = {};
  for (const name of Object.keys(assignment).sort()) {
    const value = assignment[name]!;
    const kind = defs[name]?.kind ?? 'define';
    if (kind === 'env') {
      env[name] = value;
      continue;
    }
    compile[name] = value;
    placeholders[name] = value;
    if (kind === 'define' || kind === 'cmake') words[kind].push(`-D${name}=${value}`);
    else if (kind === 'make') words.make.push(`${name}=${value}`);
    // autoconf: enable_prof=yes → --enable-prof=yes, with_lg_page=16 → --with-lg-page=16.
    else words.configure.push(`--${name.replaceAll('_', '-')}=${value}`);
  }
  placeholders.cflags = words.define.join(' ');
  placeholders.make = words.make.join(' ');
  placeholders.cmake = words.cmake.join(' ');
  placeholders.configure = words.configure.join(' ');
  return { placeholders, compile, env };
}

/** Fills `{name}` placeholders of a template; unknown ones stay as written. */
export function expand(template: string, placeholders: Record<string, string>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => placeholders[name] ?? whole);
}

/**
 * `--flag NAME=KIND[:DEFAULT]`: a flag of an inline source target, e.g.
 * `--flag MI_SECURE=cmake:OFF`, `--flag enable_prof=configure:no`.
 */
export function parseFlagDecl(text: string): [string, FlagDef] {
  const m = /^([^=]+)=([a-z]+)(?::(.*))?$/.exec(text);
  if (!m) throw usageError(`--flag ${text}: expected NAME=KIND[:DEFAULT]`, 'for example --flag MI_SECURE=cmake:OFF');
  const name = checkFlagName(m[1]!, '--flag');
  const kind = m[2] as FlagKind;
  if (!FLAG_KINDS.includes(kind)) throw usageError(`--flag ${text}: unknown flag kind '${m[2]}'`, `use one of ${FLAG_KINDS.join(', ')}`);
  const def = m[3];
  if (def !== undefined && kind !== 'env') checkFlagValue(name, def, '--flag');
  return [name, { kind, ...(def !== undefined && def !== '' ? { default: def } : {}) }];
}

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { generate, usageError } from '../../traces/index.js';
import { checkFlagName, checkFlagValue, FLAG_KINDS, type FlagDef, type SourceTarget, tinyslabTarget } from '../build/index.js';

/** A target as allocreplay.yaml defines it. */
export type ConfigTarget =
  | { kind: 'system'; env: Record<string, string> }
  | { kind: 'preload'; library: string; env: Record<string, string> }
  | ({ kind: 'source' } & SourceTarget);

export interface ConfigMatrix {
  traces: string[];
  targets: string[];
  revs: string[];
  /** Flag axes: compile-time or runtime per the target's flag definitions. */
  set: Record<string, string[]>;
  /** Runtime environment axes, for every target. */
  env: Record<string, string[]>;
  /** `A=1,B=2`: leave out configurations with all of these. */
  exclude: string[];
}

export interface Config {
  path: string;
  dir: string;
  db?: string;
  traces: Record<string, { path: string } | { generate: string; params: Record<string, number>; path: string }>;
  targets: Record<string, ConfigTarget>;
  matrices: Record<string, ConfigMatrix>;
}

/** The nearest allocreplay.yaml at or above `cwd`. */
export function findConfig(cwd = process.cwd()): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const p = join(dir, 'allocreplay.yaml');
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

type Obj = Record<string, unknown>;

class Checker {
  constructor(readonly file: string) {}

  fail(key: string, what: string, fix: string): never {
    throw usageError(`${this.file}: ${key}: ${what}`, fix);
  }

  obj(v: unknown, key: string, allowed: string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, `expected a mapping, got ${Array.isArray(v) ? 'a list' : typeof v}`, 'write it as `key: value` lines');
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.fail(`${key ? `${key}.` : ''}${k}`, 'unknown key', `use one of: ${allowed.join(', ')}`);
    return v as Obj;
  }

  map(v: unknown, key: string): Obj {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'expected a mapping of names', 'write it as `name: …` lines');
    return v as Obj;
  }

  str(v: unknown, key: string): string {
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string' || v === '') this.fail(key, `expected a string, got ${JSON.stringify(v)}`, 'give a value');
    return v;
  }

  strs(v: unknown, key: string): string[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(key, 'expected a list', 'write it as [a, b] or - lines');
    return v.map((x, i) => this.str(x, `${key}[${i}]`));
  }

  /** A string, or a list of strings. */
  strOrStrs(v: unknown, key: string): string | string[] {
    return Array.isArray(v) ? v.map((x, i) => this.str(x, `${key}[${i}]`)) : this.str(v, key);
  }

  strMap(v: unknown, key: string): Record<string, string> {
    return Object.fromEntries(Object.entries(this.map(v, key)).map(([k, x]) => [k, this.str(x, `${key}.${k}`)]));
  }
}

const TINYSLAB_FLAGS = tinyslabTarget().flags;

/** Loads and validates allocreplay.yaml; undefined when there is none. */
export function loadConfig(cwd = process.cwd(), explicit?: string): Config | undefined {
  const file = explicit ?? findConfig(cwd);
  if (!file) return undefined;
  const c = new Checker(file);
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw usageError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`, 'fix the syntax');
  }
  const dir = dirname(file);
  const top = c.obj(raw ?? {}, '', ['db', 'traces', 'targets', 'matrices']);
  const config: Config = { path: file, dir, traces: {}, targets: {}, matrices: {} };
  if (top.db !== undefined) config.db = resolve(dir, c.str(top.db, 'db'));
  for (const [name, t] of Object.entries(c.map(top.traces, 'traces'))) {
    const key = `traces.${name}`;
    if (typeof t === 'string') config.traces[name] = { path: resolve(dir, t) };
    else {
      const o = c.obj(t, key, ['generate', 'params', 'path']);
      const params: Record<string, number> = {};
      for (const [k, v] of Object.entries(c.map(o.params, `${key}.params`))) {
        if (typeof v !== 'number' || !Number.isInteger(v)) c.fail(`${key}.params.${k}`, `expected an integer, got ${JSON.stringify(v)}`, 'give a whole number');
        params[k] = v as number;
      }
      config.traces[name] = { generate: c.str(o.generate, `${key}.generate`), params, path: resolve(dir, o.path ? c.str(o.path, `${key}.path`) : `.allocreplay/traces/${name}.trace.msgpack`) };
    }
  }
  for (const [name, t] of Object.entries(c.map(top.targets, 'targets'))) {
    const key = `targets.${name}`;
    const o = c.obj(t, key, ['kind', 'library', 'env', 'repo', 'build', 'artifact', 'flags']);
    const kind = c.str(o.kind, `${key}.kind`);
    const env = c.strMap(o.env, `${key}.env`);
    for (const n of Object.keys(env)) checkFlagName(n, `${file}: ${key}.env`);
    if (kind === 'system') config.targets[name] = { kind, env };
    else if (kind === 'preload') config.targets[name] = { kind, library: resolve(dir, c.str(o.library, `${key}.library`)), env };
    else if (kind === 'source') {
      const flags: Record<string, FlagDef> = {};
      for (const [fname, f] of Object.entries(c.map(o.flags, `${key}.flags`))) {
        const fk = `${key}.flags.${fname}`;
        checkFlagName(fname, `${file}: ${key}.flags`);
        const fo = c.obj(f, fk, ['kind', 'values', 'default']);
        const fkind = c.str(fo.kind ?? 'define', `${fk}.kind`);
        if (!(FLAG_KINDS as readonly string[]).includes(fkind)) c.fail(`${fk}.kind`, `unknown flag kind '${fkind}'`, `use ${FLAG_KINDS.join(', ')}`);
        const values = fo.values === undefined ? undefined : c.strs(fo.values, `${fk}.values`);
        const def = fo.default === undefined ? undefined : c.str(fo.default, `${fk}.default`);
        if (fkind !== 'env') for (const v of [...(values ?? []), ...(def !== undefined ? [def] : [])]) checkFlagValue(fname, v, `${file}: ${fk}`);
        if (values && def !== undefined && !values.includes(def)) c.fail(`${fk}.default`, `'${def}' is not one of its values (${values.join(', ')})`, 'make the default one of the values');
        flags[fname] = { kind: fkind as FlagDef['kind'], ...(values ? { values } : {}), ...(def !== undefined ? { default: def } : {}) };
      }
      config.targets[name] = {
        kind,
        name,
        repo: resolve(dir, c.str(o.repo, `${key}.repo`)),
        build: c.str(o.build, `${key}.build`),
        artifact: c.strOrStrs(o.artifact, `${key}.artifact`),
        flags,
        env,
      };
    } else c.fail(`${key}.kind`, `unknown target kind '${kind}'`, 'use system, preload or source');
  }
  for (const [name, m] of Object.entries(c.map(top.matrices, 'matrices'))) {
    const key = `matrices.${name}`;
    const o = c.obj(m, key, ['traces', 'targets', 'revs', 'set', 'env', 'exclude']);
    const axes = (v: unknown, k: string): Record<string, string[]> =>
      Object.fromEntries(
        Object.entries(c.map(v, k)).map(([n, vs]) => {
          checkFlagName(n, `${file}: ${k}`);
          return [n, c.strs(vs, `${k}.${n}`)];
        }),
      );
    const matrix: ConfigMatrix = {
      traces: c.strs(o.traces, `${key}.traces`),
      targets: c.strs(o.targets, `${key}.targets`),
      revs: c.strs(o.revs, `${key}.revs`),
      set: axes(o.set, `${key}.set`),
      env: axes(o.env, `${key}.env`),
      exclude: c.strs(o.exclude, `${key}.exclude`),
    };
    for (const t of matrix.targets) {
      if (!config.targets[t] && !['system', 'jemalloc', 'mimalloc', 'tcmalloc', 'tinyslab'].includes(t)) c.fail(`${key}.targets`, `unknown target '${t}'`, 'define it under targets, or use system, jemalloc, mimalloc, tcmalloc, tinyslab');
    }
    // A flag value outside the declared values of every source target that declares it; a flag none declares.
    const declaring = (flag: string): string[] => matrix.targets.filter((t) => ((config.targets[t] as { flags?: Record<string, FlagDef> } | undefined)?.flags ?? (t === 'tinyslab' ? TINYSLAB_FLAGS : {}))[flag]);
    for (const [flag, values] of Object.entries(matrix.set)) {
      if (declaring(flag).length === 0) c.fail(`${key}.set.${flag}`, `no target of this matrix declares flag ${flag}`, `declare it under targets.NAME.flags, or use one of the targets' flags`);
      for (const t of matrix.targets) {
        const def = (config.targets[t] as { flags?: Record<string, FlagDef> } | undefined)?.flags?.[flag];
        for (const v of values) if (def?.values && !def.values.includes(v)) c.fail(`${key}.set.${flag}`, `value '${v}' is not one of ${t}'s declared values (${def.values.join(', ')})`, `use one of ${def.values.join(', ')}`);
      }
    }
    config.matrices[name] = matrix;
  }
  return config;
}

/**
 * The file of a trace argument: a name from allocreplay.yaml's traces
 * (generated on first use when defined by a generator) or a path as given.
 */
export function traceFile(config: Config | undefined, arg: string): string {
  const t = config?.traces[arg];
  if (!t) return arg;
  if ('generate' in t && !existsSync(t.path)) {
    mkdirSync(dirname(t.path), { recursive: true });
    generate(t.generate, t.params, t.path);
  }
  return t.path;
}

/**
 * The matrix a command asks for: the one named in allocreplay.yaml (if any)
 * widened by what was given on the command line. Trace names become files;
 * an axis given on the command line replaces the named matrix's axis of
 * the same name; lists are joined.
 */
export function requestedMatrix(config: Config | undefined, name: string | undefined, given: ConfigMatrix): ConfigMatrix {
  const named = name ? config?.matrices[name] : undefined;
  if (name && !named) throw usageError(`no matrix '${name}' in ${config?.path ?? 'allocreplay.yaml (none found)'}`, 'define it under matrices:');
  const m: ConfigMatrix = {
    traces: [...(named?.traces ?? []), ...given.traces].map((t) => traceFile(config, t)),
    targets: [...(named?.targets ?? []), ...given.targets],
    revs: [...(named?.revs ?? []), ...given.revs],
    set: { ...named?.set, ...given.set },
    env: { ...named?.env, ...given.env },
    exclude: [...(named?.exclude ?? []), ...given.exclude],
  };
  if (m.traces.length === 0) throw usageError('no traces given', 'pass trace files, or --name of a matrix in allocreplay.yaml');
  if (m.targets.length === 0) throw usageError('no targets given', 'pass --target (system, jemalloc, tinyslab, …)');
  return m;
}

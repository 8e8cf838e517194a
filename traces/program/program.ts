/**
 * The identity of a recorded program: what `record` ran and `live` runs
 * again. A replay predicts a live run only of the same program with the same
 * inputs, so the identity holds what decides that: the arguments, the
 * working directory, the binary (its resolved path and a hash of its bytes),
 * and the environment variables that change how a program allocates or
 * hashes (interpreters' allocator switches and hash seeds, glibc's tunables).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { failure } from '../platform/errors.js';

export interface ProgramIdentity {
  /** The command as given: argv[0] and its arguments. */
  argv: string[];
  /** Absolute working directory it ran in. */
  cwd: string;
  /** The executable argv[0] resolved to (PATH searched), absolute. */
  binary: string;
  /** sha256 (hex) of the executable's bytes: a rebuilt or upgraded program is another program. */
  sha256: string;
  /** The environment variables that matter (PROGRAM_ENV), as they were set. */
  env: Record<string, string>;
}

/**
 * Variables kept in a program's identity: exact names and prefixes (`*`).
 * They change how the program allocates (PYTHONMALLOC, MALLOC_ARENA_MAX,
 * GLIBC_TUNABLES) or what it does with the same input (hash seeds).
 */
export const PROGRAM_ENV = ['PYTHONMALLOC', 'PYTHONHASHSEED', 'PERL_HASH_SEED', 'PERL_PERTURB_KEYS', 'GLIBC_TUNABLES', 'MALLOC_*', 'LANG', 'LC_ALL', 'OMP_NUM_THREADS'] as const;

function matters(name: string): boolean {
  return PROGRAM_ENV.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/** The executable a command name runs: a path as given, else the first match on PATH. */
export function resolveBinary(cmd: string, cwd: string, path = process.env.PATH ?? ''): string {
  const runnable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) {
    const p = isAbsolute(cmd) ? cmd : resolve(cwd, cmd);
    if (runnable(p)) return p;
    throw failure(`cannot run ${cmd}: no executable file at ${p}`, 'check the path, or give a command on PATH');
  }
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const p = resolve(cwd, join(dir, cmd));
    if (runnable(p)) return p;
  }
  throw failure(`cannot run ${cmd}: not found on PATH`, 'check the command exists, or give its path');
}

/** The identity of `argv` run in `cwd` with `env` (the variables that matter are kept). */
export function programIdentity(argv: string[], cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): ProgramIdentity {
  const binary = resolveBinary(argv[0]!, cwd, env.PATH ?? '');
  const kept: Record<string, string> = {};
  for (const k of Object.keys(env).sort()) if (matters(k) && env[k] !== undefined) kept[k] = env[k]!;
  return { argv: [...argv], cwd: resolve(cwd), binary, sha256: createHash('sha256').update(readFileSync(binary)).digest('hex'), env: kept };
}

/** A short hash of a program's identity: the key live runs of one program share. */
export function programHash(p: ProgramIdentity): string {
  const canonical = JSON.stringify([p.argv, p.cwd, p.binary, p.sha256, Object.entries(p.env).sort(([a], [b]) => (a < b ? -1 : 1))]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** What a person calls the program: its binary's name and first arguments, cut to fit a table cell. */
export function programName(p: ProgramIdentity, width = 40): string {
  const quoted = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`);
  const text = [p.binary.split('/').pop()!, ...p.argv.slice(1).map(quoted)].join(' ').replace(/\s+/g, ' ');
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** Checks a header's `program` map (a string names the first wrong field). */
export function checkProgram(v: unknown): ProgramIdentity | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return 'program';
  const o = v as Record<string, unknown>;
  const strs = (x: unknown): boolean => Array.isArray(x) && x.every((s) => typeof s === 'string');
  if (!strs(o.argv) || (o.argv as string[]).length === 0) return 'program.argv';
  for (const k of ['cwd', 'binary'] as const) if (typeof o[k] !== 'string') return `program.${k}`;
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) return 'program.sha256';
  if (typeof o.env !== 'object' || o.env === null || Array.isArray(o.env) || !Object.values(o.env).every((s) => typeof s === 'string')) return 'program.env';
  return { argv: o.argv as string[], cwd: o.cwd as string, binary: o.binary as string, sha256: o.sha256, env: o.env as Record<string, string> };
}

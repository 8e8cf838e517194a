/**
 * The dependency graph of a source tree, for the layering test: which file
 * needs which. TypeScript: every static import and re-export, type-only ones
 * included (a type import is still a dependency between two modules), and
 * relative dynamic imports. C: every quoted `#include`, and every use of a
 * function (a call, or its address taken) that another `.c` file defines with
 * external linkage: a C file calling a function of a second file that calls back
 * is a cycle as much as two modules importing each other.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface Edge {
  to: string;
  /** false for `import type` / `export type` and all-type specifier lists (C edges are always true) */
  runtime: boolean;
}

/** file → the files it depends on (absolute paths). */
export type Graph = Map<string, Edge[]>;

/** Every file under `dir` (recursively) whose name passes `keep`, skipping folders named in `skip`. */
export function walk(dir: string, keep: (name: string) => boolean, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!skip.includes(name)) out.push(...walk(path, keep, skip));
    } else if (keep(name)) out.push(path);
  }
  return out;
}

const isTs = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.d.ts');
const isC = (name: string): boolean => name.endsWith('.c') || name.endsWith('.h');

/** TypeScript sources under each of `dirs`. */
export const tsSources = (dirs: readonly string[]): string[] => dirs.flatMap((d) => walk(d, isTs));
/** C sources and headers under each of `dirs` (vendored code left out: it is not ours to layer). */
export const cSources = (dirs: readonly string[]): string[] => dirs.flatMap((d) => walk(d, isC, ['vendor']));

const tsTarget = (file: string, spec: string): string => resolve(dirname(file), spec).replace(/\.js$/, '.ts');

/** Static imports and re-exports of one file, type-only ones marked, and relative dynamic imports. */
export function tsEdges(file: string, text: string): Edge[] {
  const edges: Edge[] = [];
  const statement = /(?:^|;)\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*['"](\.[^'"]+)['"]/gms;
  for (const m of text.matchAll(statement)) edges.push({ to: tsTarget(file, m[4]!), runtime: !(Boolean(m[2]) || allTypeSpecifiers(m[3]!)) });
  for (const m of text.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm)) edges.push({ to: tsTarget(file, m[1]!), runtime: true });
  for (const m of text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) edges.push({ to: tsTarget(file, m[1]!), runtime: false });
  return edges;
}

function allTypeSpecifiers(clause: string): boolean {
  const list = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (!list) return false;
  const names = list[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith('type '));
}

/** The import graph of `files`. */
export function tsGraph(files: readonly string[]): Graph {
  return new Map(files.map((f) => [f, tsEdges(f, readFileSync(f, 'utf8'))]));
}

/** C text without comments or string and character literals. */
function cUncommented(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, '')
    .replace(/"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'/g, '""');
}

const PREPROCESSOR = /^[ \t]*#(?:[^\n]*\\\n)*[^\n]*/gm;

/** C code without its preprocessor lines (includes are read from the raw text). */
const cCode = (text: string): string => cUncommented(text).replace(PREPROCESSOR, '');

/** Identifiers in the bodies of the macros `text` defines: a macro's call is made wherever it is expanded. */
function usedInMacros(text: string): Set<string> {
  const used = new Set<string>();
  for (const [line] of cUncommented(text).matchAll(PREPROCESSOR)) {
    const body = /^\s*#\s*define\s+\w+(?:\([^)]*\))?([\s\S]*)$/.exec(line)?.[1];
    for (const [id] of body?.matchAll(/[A-Za-z_]\w*/g) ?? []) used.add(id);
  }
  return used;
}

/**
 * The functions `code` defines: a name and its parameter list at file scope,
 * followed by a body; `local` when declared static.
 */
function definitions(code: string): { name: string; local: boolean }[] {
  const out: { name: string; local: boolean }[] = [];
  let depth = 0;
  let statementStart = 0;
  for (let i = 0; i < code.length; i++) {
    const ch = code[i];
    if (ch === '{') {
      if (depth === 0) {
        const head = code.slice(statementStart, i);
        const m = /\b([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*(?:__attribute__\s*\(\([^)]*\)\)\s*)*$/.exec(head);
        if (m && !/^(if|for|while|switch|return|sizeof)$/.test(m[1]!) && !/=\s*$/.test(head.slice(0, m.index))) out.push({ name: m[1]!, local: /\bstatic\b/.test(head) });
      }
      depth++;
    } else if (ch === '}') {
      depth--;
      if (depth === 0) statementStart = i + 1;
    } else if (ch === ';' && depth === 0) statementStart = i + 1;
  }
  return out;
}

/** Identifiers used inside braces (function bodies and initialisers): calls, and functions passed by address. */
function usedInBodies(code: string): Set<string> {
  const used = new Set<string>();
  let depth = 0;
  for (const m of code.matchAll(/[{}]|[A-Za-z_]\w*/g)) {
    if (m[0] === '{') depth++;
    else if (m[0] === '}') depth--;
    else if (depth > 0) used.add(m[0]);
  }
  return used;
}

/**
 * Functions of the C library that our shims (traces/native/recorder*.c) and
 * tinyslab define to interpose them: a call to one goes through the dynamic
 * linker to whatever is loaded (another program's shim is never linked in),
 * so it is no edge to the file that happens to define it. Each program's
 * `main` is nobody's callee.
 */
export const INTERPOSED = new Set(
  'main malloc free cfree calloc realloc reallocarray memalign posix_memalign aligned_alloc valloc pvalloc malloc_usable_size pthread_create execve execvpe fexecve execv execvp execl execlp execle _exit _Exit'.split(' '),
);

/**
 * The C graph of `files`: quoted includes, and uses of a function that a
 * `.c` file defines with external linkage from any other file (unless a
 * static function of the same name hides it). A header's inline bodies
 * and macros compile into every file that includes it, so what they use
 * counts as used by each includer (a macro as if it were expanded: the
 * check errs towards an edge).
 */
export function cGraph(files: readonly string[]): Graph {
  const raw = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
  const code = new Map(files.map((f) => [f, cCode(raw.get(f)!)]));
  // A quoted include is found beside the file, else (an -I folder) by its path's tail.
  const find = (from: string, spec: string): string => {
    const near = resolve(dirname(from), spec);
    return raw.has(near) ? near : (files.find((g) => g.endsWith(`/${spec}`)) ?? near);
  };
  const includes = new Map(files.map((f) => [f, [...raw.get(f)!.matchAll(/^[ \t]*#[ \t]*include[ \t]*"([^"]+)"/gm)].map((m) => find(f, m[1]!))]));
  const definedIn = new Map<string, string[]>();
  for (const f of files.filter((f) => f.endsWith('.c')))
    for (const d of definitions(code.get(f)!)) if (!d.local && !INTERPOSED.has(d.name)) definedIn.set(d.name, [...(definedIn.get(d.name) ?? []), f]);
  const reached = (f: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(f) || !raw.has(f)) return seen;
    seen.add(f);
    for (const h of includes.get(f)!) reached(h, seen);
    return seen;
  };
  const graph: Graph = new Map();
  for (const f of files) {
    const edges: Edge[] = includes.get(f)!.map((to) => ({ to, runtime: true }));
    if (f.endsWith('.c')) {
      const unit = [...reached(f)];
      // A static function of the file (or of a header it includes) hides any external one of that name.
      const local = new Set(unit.flatMap((g) => definitions(code.get(g)!).filter((d) => d.local).map((d) => d.name)));
      const used = new Set(unit.flatMap((g) => [...usedInBodies(code.get(g)!), ...usedInMacros(raw.get(g)!)]));
      for (const name of used) if (!local.has(name)) for (const to of definedIn.get(name) ?? []) if (to !== f) edges.push({ to, runtime: true });
    }
    graph.set(f, edges);
  }
  return graph;
}

/**
 * Strongly connected components with more than one file (or a file that
 * depends on itself), each sorted, as paths relative to `root`. `runtimeOnly`
 * leaves type-only edges out.
 */
export function cycles(graph: Graph, root: string, runtimeOnly = false): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const follows = (e: Edge): boolean => (e.runtime || !runtimeOnly) && graph.has(e.to);
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const e of graph.get(v) ?? []) {
      if (!follows(e)) continue;
      if (!index.has(e.to)) {
        visit(e.to);
        low.set(v, Math.min(low.get(v)!, low.get(e.to)!));
      } else if (onStack.has(e.to)) low.set(v, Math.min(low.get(v)!, index.get(e.to)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => follows(e) && e.to === v);
      if (scc.length > 1 || selfLoop) found.push(scc.map((f) => relative(root, f)).sort());
    }
  };
  for (const f of graph.keys()) if (!index.has(f)) visit(f);
  return found;
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

/**
 * The code's shape, checked: the four rooms stack cli → engine → reports →
 * traces (a room imports only from itself and the rooms below it), no
 * runtime import cycle anywhere, and every index.ts only re-exports.
 */

const ROOMS = ['traces', 'reports', 'engine', 'cli'] as const;

interface Edge {
  to: string;
  /** false for `import type` / `export type` and all-type specifier lists */
  runtime: boolean;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Static import and re-export edges of one file (dynamic imports do not load eagerly and are left out). */
function edgesOf(file: string, text: string): Edge[] {
  const edges: Edge[] = [];
  const statement = /(?:^|;)\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*['"](\.[^'"]+)['"]/gms;
  for (const m of text.matchAll(statement)) {
    const typeOnly = Boolean(m[2]) || allTypeSpecifiers(m[3]!);
    const to = resolve(dirname(file), m[4]!).replace(/\.js$/, '.ts');
    edges.push({ to, runtime: !typeOnly });
  }
  for (const m of text.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm)) {
    edges.push({ to: resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts'), runtime: true });
  }
  return edges;
}

function allTypeSpecifiers(clause: string): boolean {
  const list = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (!list) return false;
  const names = list[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith('type '));
}

const files = ROOMS.flatMap((room) => sources(join(ROOT, room)));
const graph = new Map(files.map((f) => [f, edgesOf(f, readFileSync(f, 'utf8'))]));
const roomOf = (file: string): number => ROOMS.indexOf(relative(ROOT, file).split('/')[0] as (typeof ROOMS)[number]);
const name = (file: string): string => relative(ROOT, file);

/** Strongly connected components of the runtime graph with more than one file (or a self-import). */
function runtimeCycles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const e of graph.get(v) ?? []) {
      if (!e.runtime || !graph.has(e.to)) continue;
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
      const selfLoop = (graph.get(v) ?? []).some((e) => e.runtime && e.to === v);
      if (scc.length > 1 || selfLoop) cycles.push(scc.map(name).sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return cycles;
}

describe('layering', () => {
  it('finds the sources and their imports (the walk itself works)', () => {
    expect(files.length).toBeGreaterThan(50);
    const edges = [...graph.values()].flat();
    expect(edges.filter((e) => e.runtime).length).toBeGreaterThan(100);
    expect(edges.filter((e) => !e.runtime).length).toBeGreaterThan(5);
    // Every relative import resolves to a file of the tree.
    const dangling = [...graph].flatMap(([f, es]) => es.filter((e) => !graph.has(e.to)).map((e) => `${name(f)} → ${relative(ROOT, e.to)}`));
    expect(dangling).toEqual([]);
  });

  it('no runtime import cycle', () => {
    expect(runtimeCycles()).toEqual([]);
  });

  it('rooms import only from themselves and the rooms below (cli → engine → reports → traces)', () => {
    const upward = [...graph].flatMap(([f, es]) => es.filter((e) => graph.has(e.to) && roomOf(e.to) > roomOf(f)).map((e) => `${name(f)} → ${name(e.to)}`));
    expect(upward).toEqual([]);
  });

  it('index.ts files only re-export', () => {
    const defining = files
      .filter((f) => f.endsWith('/index.ts'))
      .filter((f) => {
        const code = readFileSync(f, 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/^\s*\/\/.*$/gm, '')
          .replace(/^\s*export\s+(type\s+)?(\*|\{[^}]*\})(\s+as\s+\w+)?\s+from\s+['"][^'"]+['"];?\s*$/gm, '');
        return code.trim() !== '';
      })
      .map(name);
    expect(defining).toEqual([]);
  });
});

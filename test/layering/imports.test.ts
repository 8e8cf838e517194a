import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers.js';
import { cGraph, cSources, cycles, tsGraph, tsSources } from './graph.js';

/**
 * The code's shape, checked: the four rooms stack cli → engine → reports →
 * traces (a room imports only from itself and the rooms below it), no
 * import cycle anywhere (type-only imports count), no cycle of includes and
 * calls between C files, and every index.ts only re-exports.
 */

const ROOMS = ['traces', 'reports', 'engine', 'cli'] as const;

const files = tsSources(ROOMS.map((room) => join(ROOT, room)));
const graph = tsGraph(files);
const cFiles = cSources(ROOMS.map((room) => join(ROOT, room)));
const roomOf = (file: string): number => ROOMS.indexOf(relative(ROOT, file).split('/')[0] as (typeof ROOMS)[number]);
const name = (file: string): string => relative(ROOT, file);

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

  it('no import cycle, type-only imports counted', () => {
    expect(cycles(graph, ROOT)).toEqual([]);
  });

  it('finds the C sources, their includes and the calls between them', () => {
    const c = cGraph(cFiles);
    const edge = (from: string, to: string): boolean => (c.get(join(ROOT, from)) ?? []).some((e) => e.to === join(ROOT, to));
    expect(cFiles.length).toBeGreaterThan(20);
    expect(edge('engine/native/replay.c', 'engine/native/plan.c')).toBe(true); // a call (ar_plan_load)
    expect(edge('engine/native/crash.c', 'traces/native/ar_text.h')).toBe(true); // an include through -I
    expect(edge('traces/native/converter.c', 'traces/native/recorder.c')).toBe(false); // malloc is the C library's, not the shim's
  });

  it('no cycle of includes and calls between C files', () => {
    expect(cycles(cGraph(cFiles), ROOT)).toEqual([]);
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

describe('the cycle finder', () => {
  /** Writes `tree` into a fresh folder, runs `check` on it, removes it. */
  const planted = (tree: Record<string, string>, check: (dir: string) => void): void => {
    const dir = tempDir('allocreplay-layering-');
    try {
      for (const [path, text] of Object.entries(tree)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      check(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('finds a cycle closed by a type-only import, and only runtime ones when asked', () => {
    planted(
      {
        'a.ts': "import { b } from './b.js';\nexport const a = b + 1;\n",
        'b.ts': "import type { A } from './c.js';\nexport const b: A = 1;\n",
        'c.ts': "import { a } from './a.js';\nexport type A = number;\nexport const c = a;\n",
        'd.ts': "import { a } from './a.js';\nexport const d = a;\n",
      },
      (dir) => {
        const g = tsGraph(tsSources([dir]));
        expect(cycles(g, dir)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
        expect(cycles(g, dir, true)).toEqual([]);
      },
    );
  });

  it('finds C files that call each other, through a header\'s inline code and macros too, and not calls to the C library', () => {
    planted(
      {
        'one.h': 'void one(void);\nstatic inline void one_twice(void) { one(); one(); }\n#define ONE_AGAIN() one()\n',
        'one.c': '#include "one.h"\nvoid two(void);\nvoid one(void) { two(); }\n',
        'two.c': '#include "one.h"\n#include <stdlib.h>\nvoid two(void) { free(malloc(1)); }\nvoid three(void) { one_twice(); }\n',
        'shim.c': '#include <stddef.h>\nvoid *malloc(size_t n) { (void)n; return NULL; }\nvoid free(void *p) { (void)p; }\n',
        'macro.c': '#include "one.h"\nvoid four(void) { ONE_AGAIN(); }\n',
        'lone.c': '/* two(); in a comment is no call */\nstatic void two(void) {}\nvoid lone(void) { two(); }\n',
      },
      (dir) => {
        const g = cGraph(cSources([dir]));
        expect(cycles(g, dir)).toEqual([['one.c', 'two.c']]);
        expect((g.get(join(dir, 'two.c')) ?? []).map((e) => relative(dir, e.to)).sort()).toEqual(['one.c', 'one.h']);
        expect((g.get(join(dir, 'macro.c')) ?? []).map((e) => relative(dir, e.to)).sort()).toEqual(['one.c', 'one.h']);
        expect(g.get(join(dir, 'lone.c'))).toEqual([]);
        writeFileSync(join(dir, 'one.c'), '#include "one.h"\nvoid one(void) {}\n');
        expect(cycles(cGraph(cSources([dir])), dir)).toEqual([]);
      },
    );
  });
});

/**
 * The shared words (traces/vocabulary.ts) are the ones every other place
 * spells: each flag of each command that takes a metric or a replay option
 * offers exactly its list, and the store's CHECK constraints admit exactly
 * the metrics and statuses the types do.
 */
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../reports/index.js';
import { BUILD_STATUSES, isWord, METRICS, PACE_MODES, REPLAY_MODES, RUN_STATUSES, TOUCH_POLICIES, wordOf } from '../../traces/index.js';
import { walk } from '../layering/graph.js';
import { ROOT, tempDir } from '../helpers.js';

const LISTS: Record<string, readonly string[]> = { metric: METRICS, mode: REPLAY_MODES, touch: TOUCH_POLICIES, pace: PACE_MODES };

describe('vocabulary', () => {
  it('every command flag named metric, mode, touch or pace offers exactly its list', async () => {
    const seen: string[] = [];
    const wrong: string[] = [];
    for (const file of walk(join(ROOT, 'cli/commands'), (n) => n.endsWith('.ts'))) {
      const command = ((await import(file)) as { default?: { flags?: Record<string, { options?: readonly string[] }> } }).default;
      for (const [name, flag] of Object.entries(command?.flags ?? {})) {
        const list = LISTS[name];
        if (!list) continue;
        seen.push(`${relative(ROOT, file)} --${name}`);
        if (JSON.stringify(flag.options) !== JSON.stringify(list)) wrong.push(`${relative(ROOT, file)} --${name}: ${JSON.stringify(flag.options)}`);
      }
    }
    expect(wrong).toEqual([]);
    // The walk found them: replay, matrix and both bisects take all four, the reports a metric.
    for (const name of ['replay', 'matrix', 'bisect/commits', 'bisect/flags']) for (const flag of Object.keys(LISTS)) expect(seen).toContain(`cli/commands/${name}.ts --${flag}`);
    expect(seen).toContain('cli/commands/report/compare.ts --metric');
  });

  it("the store's CHECK constraints admit exactly the metrics, run and build statuses", () => {
    const dir = tempDir();
    const store = openStore(join(dir, 'results.sqlite'));
    try {
      const sql = (table: string): string => (store.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql;
      const allowed = (table: string, column: string): string[] => {
        const m = new RegExp(`\\b${column}\\s+TEXT[^,]*CHECK\\s*\\(\\s*${column}\\s+IN\\s*\\(([^)]*)\\)`).exec(sql(table));
        if (!m) throw new Error(`${table}.${column} has no CHECK (… IN (…))`);
        return m[1]!.split(',').map((s) => s.trim().replace(/^'|'$/g, ''));
      };
      expect(allowed('runs', 'metric')).toEqual([...METRICS]);
      expect(allowed('runs', 'status')).toEqual([...RUN_STATUSES]);
      expect(allowed('builds', 'status')).toEqual([...BUILD_STATUSES]);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a word back only when it is one of its list', () => {
    expect(isWord(METRICS, 'time')).toBe(true);
    expect(isWord(METRICS, 'Time')).toBe(false);
    expect(isWord(RUN_STATUSES, undefined)).toBe(false);
    expect(wordOf(RUN_STATUSES, 'alloc-failed', 'run 3')).toBe('alloc-failed');
    expect(() => wordOf(BUILD_STATUSES, 'crashed', "build k's status")).toThrow(/build k's status is "crashed", not one of ok, failed/);
  });
});

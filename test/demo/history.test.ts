import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bisectDip, checkDip, DIP_THRESHOLD_PCT, makeDemoHistory, measureDip, SPLIT_SUBJECT } from '../../engine/index.js';
import { openStore, type Store } from '../../reports/index.js';
import { generate } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

const dir = tempDir();
process.env.ALLOCREPLAY_CACHE = join(dir, 'cache');
const trace = join(dir, 'random-mixed-256.trace.msgpack');
let store: Store;

beforeAll(() => {
  generate('random-mixed', { slots: 256, ops: 60_000, seed: 42 }, trace);
  store = openStore(join(dir, 'demo.sqlite'));
});
afterAll(() => store.close());

const options = { mode: 'serial', touch: 'first', warmup: 1, repeat: 2, metric: 'time', timeoutMs: 120_000 } as const;

describe('the demo history', () => {
  it('is a real git history of 8–16 commits, the same commits every time it is made', () => {
    const a = makeDemoHistory(join(dir, 'a'));
    const b = makeDemoHistory(join(dir, 'b'));
    expect(a.commits.length).toBeGreaterThanOrEqual(8);
    expect(a.commits.length).toBeLessThanOrEqual(16);
    expect(b.commits.map((c) => c.commit)).toEqual(a.commits.map((c) => c.commit));
    expect(execFileSync('git', ['-C', a.repo, 'rev-list', '--count', 'HEAD'], { encoding: 'utf8' }).trim()).toBe(String(a.commits.length));
    // Before the split the core is one translation unit; after it, three; the last commit builds today's tinyslab files.
    const files = (rev: string): string[] => execFileSync('git', ['-C', a.repo, 'ls-tree', '--name-only', rev], { encoding: 'utf8' }).trim().split('\n');
    expect(files(a.commits[0]!.commit)).toContain('shared_pool.c');
    expect(files(a.commits[0]!.commit)).not.toContain('heap.c');
    expect(files(a.commits.at(-1)!.commit)).toEqual(expect.arrayContaining(['alloc.c', 'heap.c', 'pool.c']));
    expect(files(a.commits.at(-1)!.commit)).not.toContain('shared_pool.c');
    // Made again at the same path with the same head: kept as it is.
    expect(makeDemoHistory(a.repo).commits.at(-1)!.commit).toBe(a.commits.at(-1)!.commit);
    expect(existsSync(`${a.repo}.tmp-${process.pid}`)).toBe(false);
  });

  it('shows a dip that report check fails on, and the bisection lands on the split commit with the out-of-line helpers', async () => {
    const h = makeDemoHistory(join(dir, 'history'));
    const session = store.beginSession(['test']);
    const dip = await measureDip(store, session, h, [trace], options);
    const ins = dip.find((d) => d.metric === 'instructions')!;
    expect(ins.deltaPct!).toBeGreaterThan(DIP_THRESHOLD_PCT);
    const checked = checkDip(store, h, DIP_THRESHOLD_PCT);
    expect(checked.regression).toBe(true);
    const r = await bisectDip(store, session, h, trace, options, DIP_THRESHOLD_PCT);
    if ('refused' in r) throw new Error(r.refused);
    expect(r.stored).toBe(false);
    expect(r.firstBadCommit?.subject).toBe(SPLIT_SUBJECT);
    expect(r.firstBadCommit?.commit).toBe(h.commits.find((c) => c.subject === SPLIT_SUBJECT)!.commit);
    // The heap lookups malloc and free inlined before the split are functions of their own after it.
    const grew = r.attribution.filter((a) => a.goodSelf === 0 && a.badSelf > 0).map((a) => a.function);
    expect(grew.filter((f) => f.startsWith('ts_heap_')).length, grew.join(', ')).toBeGreaterThan(0);
    // A second demo run shows the stored bisection instead of profiling again.
    const again = await bisectDip(store, session, h, trace, options, DIP_THRESHOLD_PCT);
    if ('refused' in again) throw new Error(again.refused);
    expect(again.stored).toBe(true);
    expect(again.firstBadCommit?.commit).toBe(r.firstBadCommit?.commit);
  }, 300_000);
});

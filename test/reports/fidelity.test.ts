import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearPairs, type Configuration, fidelityReport, fidelityVerdict, kendallTau, machineKey, openStore, renderFidelity, type Store } from '../../reports/index.js';
import { cli, tempDir } from '../helpers.js';

/** A configuration of a packaged library, as engine/identity makes it. */
function config(name: string, mode: 'serial' | 'live', extra: Record<string, unknown> = {}): Configuration {
  return {
    name,
    target: name === 'system' ? { kind: 'system' } : { kind: 'preload', library: `/usr/lib/lib${name}.so` },
    revision: null,
    dirty: null,
    flags: {},
    env: {},
    options: { mode, touch: 'none', warmup: mode === 'live' ? 1 : 1, ...extra } as Configuration['options'],
    machine: machineKey(),
  };
}

/** Stores one run of wall samples (ns) for a configuration on a trace row. */
function plant(store: Store, session: number, traceId: number, c: Configuration, walls: number[]): void {
  const { id } = store.ensureConfiguration(c);
  // CPU time (user + system) is planted as 80% of the wall, a quarter of it system time.
  store.recordRun({ sessionId: session, traceId, configurationId: id, metric: 'time', status: 'ok', samples: walls.map((w) => ({ wallNs: w, nsPerOp: w, userUs: (w * 0.6) / 1000, sysUs: (w * 0.2) / 1000 })) });
}

const ms = 1e6;

function plantedStore(): { path: string; store: Store } {
  const path = join(tempDir(), 'fidelity.sqlite');
  const store = openStore(path);
  const session = store.beginSession(['test']);
  const program = { hash: 'a'.repeat(64), identity: { argv: ['prog'], cwd: '/', binary: '/bin/prog', sha256: 'b'.repeat(64), env: {} } };
  const rec = store.ensureTrace({ checksum: 'c'.repeat(64), name: 'prog', path: '/tmp/prog.trace.msgpack', events: 1000, producer: 'trace', program });
  const live = store.ensureTrace({ checksum: `program:${program.hash}`, name: 'prog', path: '/bin/prog', events: 1, producer: 'live', program });
  // Live: system 1000 ms, a 900 (−100), b 950 (−50), c 1100 (+100). Odd sample counts: the median is a sample.
  const liveMs: Record<string, number[]> = { system: [1000, 1001, 999], a: [900, 901, 899], b: [950, 951, 949], c: [1100, 1101, 1099] };
  // Replay (serial): system 500, a 450 (−50: half), b 440 (−60: 1.2×, and it swaps a and b), c 600 (+100: all of it).
  const replayMs: Record<string, number[]> = { system: [500, 501, 499], a: [450, 451, 449], b: [440, 441, 439], c: [600, 601, 599] };
  for (const t of ['system', 'a', 'b', 'c']) {
    plant(store, session, live, config(t, 'live'), liveMs[t]!.map((v) => v * ms));
    plant(store, session, rec, config(t, 'serial'), replayMs[t]!.map((v) => v * ms));
  }
  return { path, store };
}

describe('fidelity from stored runs', () => {
  it('computes each Δ, the share and τ exactly from planted runs', () => {
    const { store } = plantedStore();
    const [g, ...rest] = fidelityReport(store, { baseline: 'system' });
    store.close();
    expect(rest).toHaveLength(0);
    expect(g!.recording).toBe('prog');
    expect(g!.baselineLiveNs).toBe(1000 * ms);
    const by = Object.fromEntries(g!.targets.map((t) => [t.target, t]));
    expect(Object.keys(by)).toEqual(['a', 'b', 'c']);
    expect(by.a!.liveDeltaNs).toBe(-100 * ms);
    expect(by.a!.replayDeltaNs).toBe(-50 * ms);
    expect(by.a!.share).toBe(0.5);
    expect(by.b!.share).toBeCloseTo(1.2, 12);
    expect(by.c!.share).toBe(1);
    expect(by.a!.liveClear).toBe(true);
    // Orders: live c > system > b > a; replay c > system > a > b: one of six pairs swapped, τ = (5 − 1) / 6,
    // which is the goal (at most one pair of four allocators ordered otherwise).
    expect(g!.tau).toBeCloseTo(4 / 6, 12);
    // Every pair of the four differs clearly live (their samples do not overlap); the replay orders five of the six alike.
    expect(g!.pairs).toEqual({ clear: 6, agree: 5 });
    expect(fidelityVerdict(g!)).toContain('5 of the 6 pairs the live runs tell apart ordered alike');
    expect(fidelityVerdict({ ...g!, pairs: { clear: 0, agree: 0 } })).toContain('the live runs tell no pair apart');
    expect(g!.ranksAgree).toBe(true);
    // The headline is the target with the largest clear live Δ: a and c tie at 100 ms, the first measured wins.
    expect(g!.headline).toEqual({ target: 'a', share: 0.5 });
    expect(g!.carriesShare).toBe(true);
  });

  it('--clock cpu sets the CPU times side by side: the same share and τ, every Δ at 80%', () => {
    const { store } = plantedStore();
    const [g] = fidelityReport(store, { baseline: 'system', clock: 'cpu' });
    store.close();
    expect(g!.clock).toBe('cpu');
    expect(g!.baselineLiveNs).toBeCloseTo(800 * ms, 3);
    const by = Object.fromEntries(g!.targets.map((t) => [t.target, t]));
    expect(by.a!.liveDeltaNs).toBeCloseTo(-80 * ms, 3);
    expect(by.a!.replayDeltaNs).toBeCloseTo(-40 * ms, 3);
    expect(by.a!.share).toBeCloseTo(0.5, 9);
    expect(g!.tau).toBeCloseTo(4 / 6, 12);
  });

  it('keeps each replay mode apart and pairs it with the same live runs', () => {
    const { store } = plantedStore();
    const session = store.beginSession(['test']);
    const rec = store.ensureTrace({ checksum: 'c'.repeat(64), name: 'prog', path: '', events: 1000, producer: 'trace' });
    for (const [t, v] of [['system', 1000], ['a', 900]] as const) plant(store, session, rec, config(t, 'serial', { touch: 'all' }), [v * ms, v * ms, v * ms]);
    const groups = fidelityReport(store);
    store.close();
    expect(groups.map((g) => g.mode)).toEqual(['serial touch=none warmup=1', 'serial touch=all warmup=1']);
    const all = groups[1]!;
    expect(all.targets.map((t) => [t.target, t.share])).toEqual([['a', 1]]);
    expect(all.tau).toBe(1);
  });

  it('two pairs of four ordered otherwise than live: τ 1/3, the ranks goal not met', () => {
    const { store } = plantedStore();
    const session = store.beginSession(['test']);
    const rec = store.ensureTrace({ checksum: 'c'.repeat(64), name: 'prog', path: '', events: 1000, producer: 'trace' });
    // Live c > system > b > a; here system > c > a > b: (system, c) and (a, b) swapped.
    for (const [t, v] of [['system', 700], ['a', 450], ['b', 440], ['c', 600]] as const) plant(store, session, rec, config(t, 'serial', { touch: 'first' }), [v * ms, v * ms, v * ms]);
    const g = fidelityReport(store).find((x) => x.mode === 'serial touch=first warmup=1')!;
    store.close();
    expect(g.tau).toBeCloseTo(2 / 6, 12);
    expect(g.ranksAgree).toBe(false);
  });

  it('pairs the live runs cannot tell apart have no order to predict', () => {
    // Live: the first two overlap (no clear order); the third is clearly above both. Replay: the first two reversed.
    expect(clearPairs([[10, 11, 12], [10.5, 11.5, 12.5], [20, 21, 22]], [2, 1, 3])).toEqual({ clear: 2, agree: 2 });
    // The third replayed below the second: one of the two clear pairs ordered otherwise.
    expect(clearPairs([[10, 11, 12], [10.5, 11.5, 12.5], [20, 21, 22]], [1, 3, 2])).toEqual({ clear: 2, agree: 1 });
  });

  it('Kendall τ-b: agreement, reversal and ties', () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [40, 30, 20, 10])).toBe(-1);
    expect(kendallTau([1, 2, 3, 4], [10, 30, 20, 40])).toBeCloseTo(4 / 6, 12);
    expect(kendallTau([1, 1, 2], [1, 2, 3])).toBeCloseTo(2 / Math.sqrt(2 * 3), 12);
    expect(kendallTau([1], [1])).toBeNull();
  });

  it('report fidelity prints the table, the verdicts and the JSON; an empty database says what it holds', () => {
    const { path, store } = plantedStore();
    store.close();
    const t = cli(['report', 'fidelity', '--db', path]);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/prog — prog/);
    expect(t.stdout).toMatch(/ranks met \(τ 0\.67, goal ≥ 0\.67, 5 of the 6 pairs the live runs tell apart ordered alike\)\nshare met \(0\.50 of a's live Δ/);
    const j = cli(['report', 'fidelity', '--db', path, '--json']);
    expect(JSON.parse(j.stdout)[0].targets[2].share).toBe(1);
    const text = renderFidelity(JSON.parse(j.stdout), 'markdown');
    expect(text).toMatch(/\| a \| -100\.0 ms \|/);
    const emptyDb = join(tempDir(), 'empty.sqlite');
    openStore(emptyDb).close();
    const e = cli(['report', 'fidelity', '--db', emptyDb]);
    expect(e.status).toBe(1);
    expect(e.stderr).toMatch(/^allocreplay: no recording has both live runs .* the database holds 0 recorded traces .* run `allocreplay live --from T/);
  });

  it('report html draws the fidelity chart', () => {
    const { path, store } = plantedStore();
    store.close();
    const out = join(tempDir(), 'f.html');
    const r = cli(['report', 'fidelity', '--db', path, '--format', 'html', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/data-chart="fidelity"/);
    expect(html).toMatch(/<svg/);
  });
});

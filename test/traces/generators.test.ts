import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATORS, generate, Op, openTrace, traceInfo } from '../../traces/index.js';
import { tempDir } from '../helpers.js';

describe('generators', () => {
  it.each(Object.keys(GENERATORS))('%s gives exactly --ops events, frees everything, and repeats bit for bit', (name) => {
    const dir = tempDir();
    const a = generate(name, { ops: 30_001 }, join(dir, 'a'));
    const b = generate(name, { ops: 30_001 }, join(dir, 'b'));
    expect(readFileSync(join(dir, 'a')).equals(readFileSync(join(dir, 'b')))).toBe(true);
    expect(a.events).toBe(30_001);
    expect(b.checksum).toBe(a.checksum);
    // Every object freed exactly once: live bytes end at zero.
    const info = traceInfo(join(dir, 'a'));
    // The live-bytes series stays within the peak; the exact count below checks the end.
    expect(info.liveBytesSeries.length).toBeGreaterThan(10);
    expect(info.peakLiveBytes).toBeGreaterThan(0);
    expect(Math.max(...info.liveBytesSeries)).toBeLessThanOrEqual(info.peakLiveBytes);
    let live = 0;
    for (const c of openTrace(join(dir, 'a')).chunks()) {
      for (let i = 0; i < c.length; i++) {
        const op = c.op[i]!;
        if (op === Op.free && c.object[i]) live--;
        else if (op === Op.realloc) live += (c.object[i] ? 1 : 0) - (c.arg[i] ? 1 : 0);
        else if (op !== Op.free && op !== Op.thread_exit && c.object[i]) live++;
      }
    }
    expect(live).toBe(0);
  });

  it('different seeds give different traces', () => {
    const dir = tempDir();
    expect(generate('random-mixed', { ops: 1000, seed: 1 }, join(dir, 'a')).checksum).not.toBe(generate('random-mixed', { ops: 1000, seed: 2 }, join(dir, 'b')).checksum);
  });

  it('larson frees across threads and ends every thread', () => {
    const dir = tempDir();
    generate('larson', { ops: 50_000, threads: 4 }, join(dir, 'l'));
    const info = traceInfo(join(dir, 'l'));
    expect(info.threads).toBe(4);
    expect(info.crossThreadFrees).toBeGreaterThan(1000);
    expect(info.byOp.thread_exit).toBe(4);
  });

  it('random-mixed keeps its working set bounded by its slots', () => {
    const dir = tempDir();
    generate('random-mixed', { ops: 100_000, slots: 64 }, join(dir, 'r'));
    const info = traceInfo(join(dir, 'r'));
    expect(info.peakLiveObjects).toBeLessThanOrEqual(64);
    expect(info.peakLiveObjects).toBeGreaterThan(32);
  });

  it('rejects unknown parameters and bad values', () => {
    expect(() => generate('tiny-hot', { slots: 3 }, join(tempDir(), 'x'))).toThrow(/no parameter --slots/);
    expect(() => generate('random-mixed', { min: 100, max: 10 }, join(tempDir(), 'x'))).toThrow(/above --max/);
    expect(() => generate('nope', {}, join(tempDir(), 'x'))).toThrow(/unknown generator/);
  });
});

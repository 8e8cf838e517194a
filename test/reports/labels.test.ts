import { describe, expect, it } from 'vitest';
import { axisScale, type Configuration, configurationHash, configurationLabel, configurationNames, LOG_SPAN, rowKey, signedPct, statusText } from '../../reports/index.js';

/** A tinyslab configuration as engine/identity makes it, with `flags` over the defaults. */
function slab(flags: Record<string, string> = {}, extra: Partial<Configuration> = {}): Configuration {
  return {
    name: 'tinyslab',
    target: { kind: 'source', repo: '/src/tinyslab', build: 'make', artifact: 'libtinyslab.so' },
    revision: 'dir-0643750f1234',
    dirty: null,
    flags: { TS_INLINE: '1', TS_POOL: '1', TS_SOFT_CAP: '32', TS_STATS: '1', TS_TLS_CACHE: '1', ...flags },
    env: {},
    options: { mode: 'serial', touch: 'none', warmup: 1 },
    machine: 'k'.repeat(64),
    ...extra,
  };
}
const sys: Configuration = { name: 'system', target: { kind: 'system' }, revision: null, dirty: null, flags: {}, env: {}, options: { mode: 'serial', touch: 'none', warmup: 1 }, machine: 'k'.repeat(64) };
const item = (c: Configuration, machine = 'host') => ({ configHash: configurationHash(c), machine, label: configurationLabel(c), configuration: c });
const names = (list: ReturnType<typeof item>[], long = false): string[] => {
  const n = configurationNames(list, { long });
  return list.map((x) => n.get(rowKey(x))!);
};

describe('the label pass', () => {
  it('names a configuration by the one flag that differs, and an allocator by its name alone', () => {
    expect(names([item(slab()), item(slab({ TS_INLINE: '0' }))])).toEqual(['tinyslab TS_INLINE=1', 'tinyslab TS_INLINE=0']);
    // The demo's allocator table: the target tells them apart, so nothing else is shown.
    expect(names([item(sys), item(slab())])).toEqual(['system', 'tinyslab']);
    expect(names([item(sys), item(slab()), item(slab({ TS_SOFT_CAP: '256' }))])).toEqual(['system', 'tinyslab TS_SOFT_CAP=32', 'tinyslab TS_SOFT_CAP=256']);
  });

  it('--long gives every field; the full identity reads the same as the stored label', () => {
    const [a] = names([item(slab()), item(sys)], true);
    expect(a).toBe(`${configurationLabel(slab()).replace(/ machine=\S+/, '')} on host`);
  });

  it('names machines by host only when they differ, and two that still read the same get their hash', () => {
    expect(names([item(sys, 'a'), item(sys, 'b')])).toEqual(['system on a', 'system on b']);
    // Same fields shown, different identity (the build command is not a label field): the hash prefix tells them apart.
    const other = slab({}, { target: { kind: 'source', repo: '/src/tinyslab', build: 'make -j2', artifact: 'libtinyslab.so' } });
    const [x, y] = names([item(slab()), item(other)]);
    expect(x).toBe(`tinyslab #${configurationHash(slab()).slice(0, 7)}`);
    expect(y).toBe(`tinyslab #${configurationHash(other).slice(0, 7)}`);
  });

  it('reads a stored full label when the canonical configuration is not at hand', () => {
    const legacy = (label: string, hash: string) => ({ configHash: hash, machine: '', label });
    const n = configurationNames([legacy('slab@abc1234 TS_POOL=1 mode=serial', 'h1'), legacy('slab@abc1234 TS_POOL=2 mode=serial', 'h2')]);
    expect([...n.values()]).toEqual(['slab TS_POOL=1', 'slab TS_POOL=2']);
  });
});

describe('labels, statuses, percentages and axes', () => {
  it(`switches to a log axis past ×${LOG_SPAN}, symlog when a zero is among the values`, () => {
    expect(axisScale([10, 150])).toBe('linear');
    expect(axisScale([10, 201])).toBe('log');
    expect(axisScale([0, 10, 201])).toBe('symlog');
    expect(axisScale([5])).toBe('linear');
  });

  it("a crash names its signal and the op it reached (the README's form); other statuses read as they are stored", () => {
    expect(statusText({ status: 'crashed', signal: 'SIGABRT', opIndex: 9998 })).toBe('crashed: SIGABRT at op 9998');
    expect(statusText({ status: 'crashed', signal: 'SIGSEGV' })).toBe('crashed: SIGSEGV');
    expect(statusText({ status: 'timeout', signal: null })).toBe('timeout');
  });

  it('one signed percentage: a sign on what is not zero once rounded', () => {
    expect(signedPct(1.234)).toBe('+1.23%');
    expect(signedPct(-0.4)).toBe('-0.40%');
    expect(signedPct(0)).toBe('0.00%');
    expect(signedPct(-0.001)).toBe('0.00%');
    expect(signedPct(8, 1)).toBe('+8.0%');
    expect(signedPct(NaN)).toBe('—');
  });
});

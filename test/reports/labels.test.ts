import { describe, expect, it } from 'vitest';
import { axisScale, differingParts, distinctLabels, LOG_SPAN, statusText } from '../../reports/index.js';

describe('labels and axes', () => {
  it('two configurations that read the same get their hash; unique labels stay as they are', () => {
    const rows = [
      { configHash: 'aaaaaaaa11', machine: 'm', label: 'system' },
      { configHash: 'bbbbbbbb22', machine: 'm', label: 'system' },
      { configHash: 'cccccccc33', machine: 'm', label: 'jemalloc' },
      { configHash: 'aaaaaaaa11', machine: 'm', label: 'system' },
    ];
    const l = distinctLabels(rows);
    expect([...l.values()]).toEqual(['system [aaaaaaaa]', 'system [bbbbbbbb]', 'jemalloc']);
  });

  it('names only what differs between identities', () => {
    const parts = differingParts([
      { target: 'slab', 'options.mode': 'serial', 'flags.TS_POOL': '1' },
      { target: 'slab', 'options.mode': 'threads', 'flags.TS_POOL': '1' },
    ]);
    expect(parts).toEqual(['mode=serial', 'mode=threads']);
  });

  it(`switches to a log axis past ×${LOG_SPAN}, symlog when a zero is among the values`, () => {
    expect(axisScale([10, 150])).toBe('linear');
    expect(axisScale([10, 201])).toBe('log');
    expect(axisScale([0, 10, 201])).toBe('symlog');
    expect(axisScale([5])).toBe('linear');
  });

  it('a crash names its signal; other statuses read as they are stored', () => {
    expect(statusText({ status: 'crashed', signal: 'SIGSEGV' })).toBe('crashed: SIGSEGV');
    expect(statusText({ status: 'timeout', signal: null })).toBe('timeout');
  });
});

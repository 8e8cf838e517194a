import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selfCommand } from '../../cli/common.js';
import { compareSamples, type HistoryLine, type HistoryPoint, renderHistory } from '../../reports/index.js';
import { cli, ROOT, tempDir } from '../helpers.js';

describe('target list', () => {
  it('lists the targets of allocreplay.yaml, saying which are missing', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'allocreplay.yaml'), ['targets:', '  je-bg: { kind: preload, library: /nonexistent/libje.so, env: { MALLOC_CONF: "background_thread:true" } }', `  mine: { kind: source, repo: ${join(ROOT, 'engine/allocators/tinyslab')}, build: make, artifact: libtinyslab.so }`, ''].join('\n'));
    const r = cli(['target', 'list', '--json'], { cwd: dir });
    expect(r.status).toBe(0);
    const list = JSON.parse(r.stdout) as { name: string; available: boolean; why?: string; from: string }[];
    expect(list.find((t) => t.name === 'je-bg')).toMatchObject({ available: false, why: expect.stringContaining('fix targets.je-bg.library'), from: join(dir, 'allocreplay.yaml') });
    expect(list.find((t) => t.name === 'mine')).toMatchObject({ available: true });
  });

  it('fails on a bad allocreplay.yaml, naming the key (exit 2)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'allocreplay.yaml'), 'targets:\n  bad: { kind: nope }\n');
    const r = cli(['target', 'list'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/allocreplay\.yaml: targets\.bad\.kind: /);
  });
});

describe('wording', () => {
  it('trace info of a recording says "record" once; an import says "1 thread"', () => {
    const dir = tempDir();
    const rec = join(dir, 'rec.trace.msgpack');
    expect(cli(['record', '-o', rec, '--', 'true']).status).toBe(0);
    const info = cli(['trace', 'info', rec]).stdout;
    expect(info).toMatch(/^ {2}producer {6}record \(true\)$/m);
    const log = join(dir, 'm.log');
    writeFileSync(log, ['= Start', '@ ./p:[0x1] + 0x10 0x10', '@ ./p:[0x2] - 0x10', '= End', ''].join('\n'));
    expect(cli(['import', 'mtrace', log, '-o', join(dir, 'm.trace.msgpack')]).stdout).toMatch(/, 1 thread from 4 lines$/m);
  });

  it('report html writes nothing on stderr and draws its verdict mark, no emoji', () => {
    const dir = tempDir();
    const trace = join(dir, 'th.trace.msgpack');
    const db = join(dir, 'r.sqlite');
    expect(cli(['generate', 'tiny-hot', '--ops', '2000', '-o', trace]).status).toBe(0);
    expect(cli(['replay', trace, '-t', 'system', '-t', 'jemalloc', '--repeat', '4', '--db', db]).status).toBe(0);
    const out = join(dir, 'r.html');
    const r = cli(['report', 'html', '-o', out, '--db', db, '--baseline', 'target=system', '--candidate', 'target=jemalloc']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/<p class="verdict (good|bad)"><svg class="mark"/);
    expect(html).not.toMatch(/[\u{1F300}-\u{1FAFF}\u2705\u274C\u26A0]/u);
  });

  it('the history sparkline of a line with no changed step is flat', () => {
    const point = (revision: string, values: number[], prev?: number[]): HistoryPoint => ({
      revision,
      status: 'ok',
      label: 'slab',
      configHashes: [revision],
      median: values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!,
      mad: 0,
      lo: 0,
      hi: 0,
      n: values.length,
      runs: 1,
      created: '2026-01-01T00:00:00Z',
      ...(prev ? { step: compareSamples(prev, values, { thresholdPct: 2, exact: false }) } : {}),
    });
    const a = [100, 101, 99, 100, 102];
    const b = [100.7, 101.7, 99.7, 100.7, 102.7]; // +0.7%: no change
    const line = (points: HistoryPoint[]): HistoryLine => ({ name: 'rm', trace: 'rm', target: 'slab', repo: null, machine: 'm', variant: '', order: 'runs', points });
    expect(renderHistory([line([point('aaa', a), point('bbb', b, a)])], 'time', 'table', { color: false })).toMatch(/^rm {2}▄▄ {2}\(2 revisions, oldest first, no change\)$/m);
    const c = a.map((x) => x * 1.5);
    expect(renderHistory([line([point('aaa', a), point('ccc', c, a)])], 'time', 'table', { color: false })).toMatch(/^rm {2}▁█ {2}\(2 revisions, oldest first\)$/m);
  });

  it('the next: hint names a command that runs from here', () => {
    const cmd = selfCommand();
    const r = spawnSync('sh', ['-c', `${cmd} --version`], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^allocreplay\/\d/);
  });

  it('npm run bench -- nosuch exits non-zero naming the benchmarks', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/test/bench/run.js'), 'nosuch'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bench: no benchmark named nosuch; the benchmarks: .*fidelity/m);
    expect(r.stdout).toBe('');
  });
});

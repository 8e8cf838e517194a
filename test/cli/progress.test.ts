import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers.js';

describe('progress', () => {
  it('a terminal that reports 0 columns gets no spinner, and the replay completes and is stored', () => {
    const dir = tempDir();
    const trace = join(dir, 'th.trace.msgpack');
    const db = join(dir, 'r.sqlite');
    expect(cli(['generate', 'tiny-hot', '--ops', '2000', '-o', trace]).status).toBe(0);
    // `script` gives the command a pseudo-terminal; stty makes it report 0 columns.
    const run = `stty cols 0 rows 0; '${process.execPath}' '${join(ROOT, 'cli/bin/run.js')}' replay '${trace}' --repeat 3 --db '${db}'`;
    const r = spawnSync('script', ['-qec', run, '/dev/null'], { encoding: 'utf8', env: process.env, maxBuffer: 64 << 20 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('1 run stored in');
    expect(r.stdout).not.toContain('\u001b[?25l'); // ora hides the cursor when it starts
    expect(r.stdout.length).toBeLessThan(4000);
    const runs = JSON.parse(cli(['db', 'runs', '--db', db, '--json']).stdout) as { status: string }[];
    expect(runs.map((x) => x.status)).toEqual(['ok']);
  });

  it('callgrind runs without a terminal print a line each', () => {
    const dir = tempDir();
    const trace = join(dir, 'th.trace.msgpack');
    expect(cli(['generate', 'tiny-hot', '--ops', '500', '-o', trace]).status).toBe(0);
    const r = cli(['replay', trace, '-t', 'system', '-t', 'tinyslab', '--metric', 'instructions', '--db', join(dir, 'r.sqlite')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^replay \[1\/2\] th × system \(\S+ so far\)$/m);
    expect(r.stderr).toMatch(/^replay \[2\/2\] th × tinyslab\S* .*\(\S+ so far\)$/m);
    expect(r.stderr).toMatch(/^replay: done in \S+$/m);
  });
});

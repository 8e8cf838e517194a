import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../traces/index.js';
import { run } from '../bisect/repo.js';
import { tempDir } from '../helpers.js';

const dir = tempDir();
const cache = join(dir, 'cache');
const trace = join(dir, 'rm.trace.msgpack');
const here = join(dir, 'here.sqlite');
const far = join(dir, 'far.sqlite');
const otherCc = join(dir, 'othercc');

/** Measures the system allocator, time and instructions, as machine `host` (ALLOCREPLAY_HOST names it) into `db`. */
async function measureOn(host: string, db: string, extra: Record<string, string> = {}): Promise<void> {
  const env = { ALLOCREPLAY_CACHE: cache, ALLOCREPLAY_HOST: host, ...extra };
  for (const metric of [['--repeat', '4'], ['--metric', 'instructions']]) {
    const r = await run(['matrix', trace, '-t', 'system', ...metric, '--db', db], env);
    expect(r.status, r.stderr).toBe(0);
  }
}

const compare = (...extra: string[]) => run(['report', 'compare', '--db', here, '--baseline', 'machine=near-box', '--candidate', 'machine=far-box', ...extra], {});

beforeAll(async () => {
  generate('random-mixed', { slots: 64, ops: 3000 }, trace);
  await measureOn('near-box', here);
  await measureOn('far-box', far);
  const m = await run(['db', 'merge', '--db', here, far], {});
  expect(m.status, m.stderr).toBe(0);
});

describe('runs from another machine', () => {
  it('every run names the machine identity it was measured with, and the merge keeps both', async () => {
    const r = await run(['db', 'query', '--db', here, '--json', 'SELECT m.hostname, i.cpu, i.cores, i.kernel, i.compiler, i.libc, i.allocreplay, COUNT(r.id) AS runs FROM runs r JOIN machines m ON m.id = r.machine_id JOIN machine_identities i ON i.id = r.machine_identity_id GROUP BY i.id ORDER BY m.hostname'], {});
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows.map((x) => [x.hostname, x.runs])).toEqual([
      ['far-box', 2],
      ['near-box', 2],
    ]);
    for (const x of rows) {
      expect(x.compiler).toMatch(/\d+\.\d+/);
      expect(x.libc).toMatch(/^glibc \d/);
      expect(x.cores).toBeGreaterThan(0);
      expect(x.allocreplay).toMatch(/^\d+\.\d+\.\d+/);
    }
  });

  it('report compare refuses timings from two machines unless --across-machines, and then says so', async () => {
    const refused = await compare();
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/timings from different machines are not compared .*near-box.*far-box/);
    expect(refused.stderr).toContain('--across-machines');
    const check = await run(['report', 'check', '--db', here, '--baseline', 'machine=near-box', '--candidate', 'machine=far-box'], {});
    expect(check.status).toBe(2);
    const allowed = await compare('--across-machines');
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('timed on different machines: near-box vs far-box');
    const json = await compare('--across-machines', '--json');
    expect((JSON.parse(json.stdout) as { machines: string }[])[0]!.machines).toBe('timed on different machines: near-box vs far-box');
  });

  it('instruction counts compare across machines with the same toolchain, and not with another compiler', async () => {
    const same = await compare('--metric', 'instructions');
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toContain('instructions from near-box and far-box, same toolchain');
    // A third machine whose compiler says it is another one (it wraps the real one, so everything still builds).
    writeFileSync(otherCc, '#!/bin/sh\nif [ "$1" = --version ]; then echo "othercc 9.9.9"; exit 0; fi\nexec cc "$@"\n');
    chmodSync(otherCc, 0o755);
    const odd = join(dir, 'odd.sqlite');
    await measureOn('odd-box', odd, { CC: otherCc });
    expect((await run(['db', 'merge', '--db', here, odd], {})).status).toBe(0);
    const refused = await run(['report', 'compare', '--db', here, '--baseline', 'machine=near-box', '--candidate', 'machine=odd-box', '--metric', 'instructions'], {});
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/instruction counts from different toolchains are not compared.*othercc 9\.9\.9/);
    const forced = await run(['report', 'compare', '--db', here, '--baseline', 'machine=near-box', '--candidate', 'machine=odd-box', '--metric', 'instructions', '--across-machines'], {});
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('instructions from different toolchains: near-box vs odd-box');
  });
});

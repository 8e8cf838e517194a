import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { configurationHash, type Configuration } from '../../reports/index.js';
import { generate, openTrace } from '../../traces/index.js';
import { run } from '../bisect/repo.js';
import { ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const cache = join(dir, 'cache');
const env = { ALLOCREPLAY_CACHE: cache };
const db = join(dir, 'pgo.sqlite');
const rm = join(dir, 'rm128.trace.msgpack');
const hot = join(dir, 'hot16.trace.msgpack');
const judged = join(dir, 'rm2048.trace.msgpack');

beforeAll(async () => {
  generate('random-mixed', { slots: 128, ops: 30_000, seed: 42 }, rm);
  generate('tiny-hot', { size: 16, ops: 30_000 }, hot);
  generate('random-mixed', { slots: 2048, ops: 30_000, seed: 42 }, judged);
});

type Row = { identity: Configuration; configHash: string; status: string; nsPerOp: number | null };
async function replay(extra: string[]): Promise<Row[]> {
  const r = await run(['replay', judged, '-t', 'tinyslab', '--repeat', '2', '--db', db, '--json', ...extra], env);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Row[];
}

/** Every file under `d`. */
const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));

describe('profile-guided builds', () => {
  it('collects profiles from the training traces, builds with them, and keys the configuration by the training set', async () => {
    const [plain] = await replay([]);
    const [pgo] = await replay(['--pgo', `${rm},${hot}`]);
    expect(plain!.status).toBe('ok');
    expect(pgo!.status).toBe('ok');
    // Identity: the training traces' checksums, sorted; a plain build has no such field, so its hash is what it always was.
    const sums = [rm, hot].map((t) => checksumOf(t)).sort();
    expect(pgo!.identity.pgo).toEqual({ training: sums });
    expect('pgo' in plain!.identity).toBe(false);
    expect(configurationHash(plain!.identity)).toBe(plain!.configHash);
    expect(configurationHash(pgo!.identity)).toBe(pgo!.configHash);
    expect(pgo!.configHash).not.toBe(plain!.configHash);
    const { pgo: _drop, ...rest } = pgo!.identity;
    expect(configurationHash(rest as Configuration)).toBe(plain!.configHash);
    // Profiles: one .gcda per translation unit of tinyslab, written by the training replays.
    const gcda = walk(join(cache, 'pgo')).filter((f) => f.endsWith('.gcda'));
    const units = readdirSync(join(ROOT, 'engine/allocators/tinyslab')).filter((f) => f.endsWith('.c')).map((f) => f.replace(/\.c$/, '.gcda'));
    expect(units.length).toBeGreaterThanOrEqual(5);
    expect(gcda.map((f) => f.split('-').pop()).sort()).toEqual(units.sort());
    // Used: the optimised build compiled with -fprofile-use next to those profiles, and made another library than the plain one.
    const logs = walk(join(cache, 'builds')).filter((f) => f.endsWith('build.log')).map((f) => readFileSync(f, 'utf8'));
    expect(logs.filter((l) => l.includes('-fprofile-generate'))).toHaveLength(1);
    expect(logs.filter((l) => l.includes('-fprofile-use'))).toHaveLength(1);
    // Read: with -Wmissing-profile on, the compiler found a profile for every unit (a missing one fails the build).
    expect(logs.find((l) => l.includes('-fprofile-use'))).toContain('-Wmissing-profile');
    expect(logs.find((l) => l.includes('-fprofile-use'))).not.toMatch(/profile count data file not found|-Wmissing-profile\]/);
    const libs = walk(join(cache, 'builds')).filter((f) => f.endsWith('.so')).map((f) => readFileSync(f).toString('base64'));
    expect(new Set(libs).size).toBe(3);
  });

  it('the same training set in another order is the same configuration; another set is another one', async () => {
    const [a] = await replay(['--pgo', `${rm},${hot}`]);
    const [b] = await replay(['--pgo', `${hot},${rm}`]);
    const [c] = await replay(['--pgo', rm]);
    expect(b!.configHash).toBe(a!.configHash);
    expect(c!.configHash).not.toBe(a!.configHash);
    expect(c!.identity.pgo!.training).toHaveLength(1);
  });

  it('matrix --pgo makes every source configuration profile-guided, each flag assignment trained on its own build', async () => {
    const r = await run(['matrix', judged, '-t', 'tinyslab', '-t', 'system', '--set', 'TS_POOL=1,2', '--pgo', hot, '--repeat', '1', '--db', db, '--json'], env);
    expect(r.status, r.stderr).toBe(0);
    const runs = (JSON.parse(r.stdout) as { runs: Row[] }).runs;
    const ts = runs.filter((x) => x.identity.target.kind === 'source');
    expect(ts.map((x) => x.identity.flags.TS_POOL).sort()).toEqual(['1', '2']);
    for (const x of ts) expect(x.identity.pgo).toEqual({ training: [checksumOf(hot)] });
    expect(runs.find((x) => x.identity.target.kind === 'system')!.identity.pgo).toBeUndefined();
    // Profiles are per build: one training per flag assignment.
    const trainedOnHotAlone = walk(join(cache, 'pgo')).filter((f) => f.endsWith('complete') && readFileSync(f, 'utf8').trim() === `${checksumOf(hot)} hot16`);
    expect(trainedOnHotAlone).toHaveLength(2);
  });

  it('an allocator that crashes on a training trace is a recorded failed build, not a crashed tool', async () => {
    const src = join(dir, 'crashsrc');
    mkdirSync(src);
    for (const f of ['crash_nth.c', 'nth_call.h']) copyFileSync(join(ROOT, 'test/fixtures/allocators', f), join(src, f));
    const r = await run(['replay', judged, '--repo', src, '--build', 'cc -shared -fPIC -O2 {cflags} -o libcrash.so crash_nth.c', '--artifact', 'libcrash.so', '--pgo', rm, '--repeat', '1', '--db', db, '--json'], env);
    expect(r.stderr).not.toMatch(/internal error/i);
    const [row] = JSON.parse(r.stdout) as (Row & { error: string })[];
    expect(row!.status).toBe('failed');
    expect(row!.error).toMatch(/training on rm128 ended crashed \(SIGSEGV at op \d+\)/);
  });

  it('a packaged allocator cannot be profile-guided: one line, exit 2', async () => {
    const r = await run(['replay', judged, '-t', 'system', '--pgo', rm, '--db', db], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--pgo builds source targets/);
  });
});

/** A trace's checksum as the reader computes it from the content. */
function checksumOf(path: string): string {
  const r = openTrace(path);
  r.scan();
  return r.checksum!;
}

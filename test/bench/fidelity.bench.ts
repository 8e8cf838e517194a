/**
 * Fidelity: does a replay predict the live program? Six real programs
 * (interpreters, a compiler, a database, a text processor, a multi-threaded
 * one) are recorded once, run live under system, jemalloc, mimalloc and
 * tcmalloc (5 interleaved runs each), and their traces replayed through the
 * same four in the default mode for recorded traces and in each
 * alternative; all through the CLI a user types, into one database, and
 * `report fidelity --json` computes the figures. Printed per mode: for each
 * program the live Δ and replay Δ against the system allocator of the
 * target whose live difference is largest and clear (the one the report
 * judges the share by; mimalloc where none is clear), that share, and
 * Kendall's τ of the four allocators' orders; then the goals as the report
 * judges them (τ ≥ 0.67 on five of six, a share in [0.5, 2] on four of six).
 *
 * ALLOCREPLAY_BENCH_FIDELITY_PROGRAMS=perl,jq runs a subset;
 * ALLOCREPLAY_BENCH_FIDELITY_REPEAT sets the repetitions (default 5);
 * ALLOCREPLAY_BENCH_FIDELITY_CLOCK=cpu compares CPU time instead of wall.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listTargets } from '../../engine/index.js';
import type { FidelityGroup } from '../../reports/index.js';
import { canonicalJson, signedDuration } from '../../reports/index.js';
import { packagePath } from '../../traces/index.js';
import { realPython, tempDir } from '../helpers.js';

interface Program {
  name: string;
  /** What pattern it exercises. */
  kind: string;
  /** Makes its inputs in `dir`; returns the command, or a reason it cannot run here. */
  setup: (dir: string) => string[] | string;
  env?: Record<string, string>;
}

const which = (cmd: string): string | undefined => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};


const PY_DICTS = `
d = {}
for i in range(400000):
    d[str(i)] = (i, str(i) * 2, [i, i + 1])
s = sorted(d.items(), key=lambda kv: kv[1][0] % 1000)
print(len(s))
`;

const PY_THREADS = `
import threading, queue
q = queue.Queue(maxsize=1000)
def produce():
    for i in range(150000):
        q.put([str(i), (i, i * 2), {'k': i}])
    q.put(None)
def consume():
    n = 0
    while True:
        x = q.get()
        if x is None:
            break
        n += len(x[0])
    print(n)
t1 = threading.Thread(target=produce); t2 = threading.Thread(target=consume)
t1.start(); t2.start(); t1.join(); t2.join()
`;

const PROGRAMS: Program[] = [
  {
    name: 'python',
    kind: 'interpreter: dicts of tuples and strings, then a sort',
    setup: () => {
      const py = realPython();
      return py ? [py, '-c', PY_DICTS] : 'python3 is not installed';
    },
    env: { PYTHONMALLOC: 'malloc', PYTHONHASHSEED: '0' },
  },
  {
    name: 'perl',
    kind: 'interpreter: a hash of array refs',
    setup: () => (which('perl') ? ['perl', '-e', 'my %h; $h{$_} = [$_, "x" x ($_ % 40)] for 1 .. 600000; my $n = 0; $n += @{$h{$_}} for keys %h; print "$n\\n"'] : 'perl is not installed'),
    env: { PERL_HASH_SEED: '0', PERL_PERTURB_KEYS: '0' },
  },
  {
    name: 'sqlite3',
    kind: 'database: an in-memory table of 300k rows and an index',
    setup: () =>
      which('sqlite3')
        ? ['sqlite3', ':memory:', "CREATE TABLE t(a INTEGER, b TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) INSERT INTO t SELECT x, hex(randomblob(12)) FROM c; CREATE INDEX tb ON t(b); SELECT count(*) FROM t WHERE b > '8';"]
        : 'sqlite3 is not installed (apt-get install sqlite3)',
  },
  {
    name: 'jq',
    kind: 'text processor: a filter over 200k JSON objects',
    setup: (dir) => {
      if (!which('jq')) return 'jq is not installed (apt-get install jq)';
      const file = join(dir, 'objects.json');
      const rows = Array.from({ length: 200_000 }, (_, i) => ({ k: `key${i}`, v: i, s: 'abc'.repeat(i % 7), t: [i % 5, i % 11] }));
      writeFileSync(file, JSON.stringify(rows));
      return ['jq', '-c', 'map(select(.v % 3 == 0) | {k, s: (.s | ascii_upcase), n: (.t | add)}) | length', file];
    },
  },
  {
    name: 'cc1',
    kind: "compiler: gcc's cc1 on 1,500 generated functions",
    setup: (dir) => {
      if (!which('gcc')) return 'gcc is not installed';
      const cc1 = execFileSync('gcc', ['-print-prog-name=cc1'], { encoding: 'utf8' }).trim();
      const src = join(dir, 'gen.c');
      const fns = Array.from({ length: 1500 }, (_, i) => `int f${i}(int *a, int n) { int s = ${i}; for (int k = 0; k < n; k++) s += a[k] * ${i % 13} + (s >> ${i % 5}); return s; }`);
      writeFileSync(src, `${fns.join('\n')}\n`);
      return [cc1, '-quiet', '-O1', src, '-o', join(dir, 'gen.s')];
    },
  },
  {
    name: 'python-threads',
    kind: 'multi-threaded: a producer and a consumer thread, objects freed by the other thread',
    setup: () => {
      const py = realPython();
      return py ? [py, '-c', PY_THREADS] : 'python3 is not installed';
    },
    env: { PYTHONMALLOC: 'malloc', PYTHONHASHSEED: '0' },
  },
];

/** Replay modes compared: the default for recorded traces first (no flag), then each alternative as flags. */
export const FIDELITY_MODES: { name: string; flags: string[] }[] = [
  { name: 'default', flags: [] },
  { name: 'back-to-back', flags: ['--pace', 'none', '--touch', 'none'] },
  { name: 'touch all', flags: ['--pace', 'none', '--touch', 'all'] },
  { name: 'touch program', flags: ['--pace', 'none', '--touch', 'program'] },
  { name: 'paced, touch program', flags: ['--pace', 'recorded', '--touch', 'program'] },
];

function run(args: string[], opts: { cwd: string; env?: Record<string, string> }): string {
  const r = spawnSync(process.execPath, [packagePath('cli', 'bin', 'run.js'), ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`allocreplay ${args.slice(0, 3).join(' ')} … exited ${r.status}: ${r.stderr.trim().split("\n").slice(0, 12).join(" | ")}`);
  return r.stdout;
}

export default async function bench(): Promise<void> {
  const dir = tempDir('allocreplay-bench-fidelity-');
  const db = join(dir, 'fidelity.sqlite');
  const repeat = process.env.ALLOCREPLAY_BENCH_FIDELITY_REPEAT ?? '5';
  const only = process.env.ALLOCREPLAY_BENCH_FIDELITY_PROGRAMS?.split(',');
  const targets = ['system', ...['jemalloc', 'mimalloc', 'tcmalloc'].filter((n) => listTargets().some((t) => t.name === n && t.available))];
  const t = targets.flatMap((n) => ['-t', n]);
  /** Per program, the replay options each bench mode ran with (as the store keeps them). */
  const done: { p: Program; events: number; trace: string; options: string[] }[] = [];
  for (const p of PROGRAMS.filter((x) => !only || only.includes(x.name))) {
    const cmd = p.setup(dir);
    if (typeof cmd === 'string') {
      console.log(`${p.name}: skipped, ${cmd}`);
      continue;
    }
    const trace = join(dir, `${p.name}.trace.msgpack`);
    // The program's own output comes first on stdout; record's JSON starts at the last line that is `{`.
    const recOut = run(['record', '-o', trace, '--json', '--', ...cmd], { cwd: dir, ...(p.env ? { env: p.env } : {}) });
    const rec = JSON.parse(recOut.slice(recOut.lastIndexOf('\n{\n') + 1)) as { traces: { events: number }[] };
    run(['live', '--from', trace, ...t, '--repeat', repeat, '--db', db, '--json'], { cwd: dir });
    const options = FIDELITY_MODES.map((m) => {
      const out = JSON.parse(run(['replay', trace, ...t, '--repeat', repeat, ...m.flags, '--db', db, '--json'], { cwd: dir })) as { identity: { options: unknown } }[];
      return canonicalJson(out[0]!.identity.options);
    });
    done.push({ p, events: rec.traces[0]?.events ?? 0, trace: p.name, options });
    console.log(`${p.name} (${p.kind}): ${(rec.traces[0]?.events ?? 0).toLocaleString('en-US')} events recorded, run live and replayed in ${FIDELITY_MODES.length} modes`);
  }
  const clock = process.env.ALLOCREPLAY_BENCH_FIDELITY_CLOCK === 'cpu' ? 'cpu' : 'wall';
  const groups = JSON.parse(run(['report', 'fidelity', '--db', db, '--clock', clock, '--json'], { cwd: dir })) as FidelityGroup[];
  console.log(`\nclock: ${clock} time (ALLOCREPLAY_BENCH_FIDELITY_CLOCK=cpu compares user + system time instead)`);
    for (const [i, m] of FIDELITY_MODES.entries()) {
    console.log(`\n### ${m.name}${m.flags.length ? ` (${m.flags.join(' ')})` : ' (no flag: the mode recorded traces get)'}`);
    console.log(['program', 'events', 'replay mode', 'target', 'live Δ', 'replay Δ', 'share', 'τ', 'clear pairs alike'].join(' | '));
    let ranks = 0;
    let shares = 0;
    for (const d of done) {
      const g = groups.find((x) => x.recording === d.trace && canonicalJson(x.options) === d.options[i]);
      if (!g) {
        console.log(`${d.p.name} | ${d.events} | — | no fidelity group (a target failed?) | | | | |`);
        continue;
      }
      // The report's own judgement: the target whose live difference is largest and clear (else mimalloc, unjudged).
      const shown = g.targets.find((x) => x.target === (g.headline?.target ?? 'mimalloc'));
      if (g.ranksAgree) ranks++;
      if (g.carriesShare) shares++;
      const share = g.headline?.share;
      console.log([d.p.name, d.events.toLocaleString('en-US'), g.mode, shown?.target ?? '—', shown ? signedDuration(shown.liveDeltaNs) : '—', shown ? signedDuration(shown.replayDeltaNs) : '—', share == null ? 'no clear live Δ' : share.toFixed(2), g.tau === null ? '—' : g.tau.toFixed(2), `${g.pairs.agree} of ${g.pairs.clear}`].join(' | '));
    }
    console.log(`goals: τ ≥ 0.67 on ${ranks} of ${done.length} (want ≥ 5 of 6); share in [0.5, 2] on ${shares} of ${done.length} (want ≥ 4 of 6)`);
  }
  console.log(`\ndatabase: ${db} (allocreplay report fidelity --db ${db})`);
}

if (process.argv[1]?.endsWith('fidelity.bench.js')) await bench();

/**
 * Runs one batch of fuzz cases in a worker thread, so the test can stop a
 * case that hangs (a synchronous endless loop cannot be timed out from its
 * own thread). Before each case it posts `{ start: i }`; a case that breaks
 * a rule posts `{ bad }` with its input kept on disk; the end posts `{ done }`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { AllocreplayError, importAosp, importMtrace, type ImportOptions, type ImportResult, Prng, validateTrace } from '../../traces/index.js';
import { runConfigCase } from './configs.js';
import { mutateText, mutateZip, pick } from './mutate.js';

export interface FuzzJob {
  kind: 'aosp' | 'mtrace' | 'configs';
  seed: number;
  count: number;
  dir: string;
  /** Valid inputs to start from: text dumps, and (aosp) zips with the names of their files. */
  texts: string[];
  zips: { path: string; names: string[] }[];
  /** Every `cliEvery`-th case also runs through the real CLI (exit status and one-line stderr checked). */
  cliEvery: number;
  cli: string;
}

export type FuzzMessage =
  | { start: number }
  | { bad: { i: number; rule: string; detail: string; input: string } }
  | { done: Record<string, number> };

const job = workerData as FuzzJob;
const post = (m: FuzzMessage): void => parentPort!.postMessage(m);
const counts: Record<string, number> = {};
const count = (k: string): void => {
  counts[k] = (counts[k] ?? 0) + 1;
};

/** One import case: either a valid trace or one of our errors, and never anything left behind on refusal. */
async function importCase(i: number, r: Prng): Promise<void> {
  const zipCase = job.kind === 'aosp' && r.chance(0.3);
  const input = join(job.dir, `case.${zipCase ? 'zip' : 'txt'}`);
  const out = join(job.dir, 'case.trace.msgpack');
  rmSync(out, { force: true });
  const opts: ImportOptions = { lenient: r.chance(0.5) };
  if (zipCase) {
    const z = pick(r, job.zips);
    writeFileSync(input, r.chance(0.15) ? readFileSync(z.path) : mutateZip(r, readFileSync(z.path)));
    if (r.chance(0.2)) opts.entry = r.chance(0.7) && z.names.length ? pick(r, z.names) : 'missing.txt';
    if (r.chance(0.1)) opts.maxBytes = 64;
  } else {
    writeFileSync(input, mutateText(r, pick(r, job.texts)));
  }
  const bad = (rule: string, detail: string): void => {
    const keep = join(job.dir, `bad-${job.kind}-${i}${zipCase ? '.zip' : '.txt'}`);
    copyFileSync(input, keep);
    post({ bad: { i, rule, detail, input: keep } });
  };
  let result: ImportResult | undefined;
  let error = '';
  try {
    result = await (job.kind === 'aosp' ? importAosp(input, out, opts) : importMtrace(input, out, opts));
  } catch (e) {
    if (!(e instanceof AllocreplayError)) return bad('internal error', (e as Error).stack ?? String(e));
    error = e.message;
    count(`refused (${e.code})`);
    if (existsSync(out) || existsSync(`${out}.tmp`)) bad('output left behind', e.message);
  }
  if (result) {
    count('imported');
    try {
      const events = validateTrace(out).footer?.events;
      if (events !== result.footer.events || events === 0) bad('validate disagrees', `import said ${result.footer.events} events, validate ${events}`);
    } catch (e) {
      bad('output fails validation', (e as Error).message);
    }
  }
  if (job.cliEvery && i % job.cliEvery === 0) {
    const args = [job.cli, 'import', job.kind, input, '-o', out, ...(opts.lenient ? ['--lenient'] : []), ...(opts.entry ? ['--entry', opts.entry] : [])];
    const c = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
    count('through the CLI');
    const lines = c.stderr.trim() ? c.stderr.trim().split('\n') : [];
    if (c.status === null || ![0, 1, 2].includes(c.status) || /internal error/.test(c.stderr) || lines.length > 1) bad('CLI', `exit ${c.status ?? c.signal}: ${c.stderr}`);
  }
}

for (let i = 0; i < job.count; i++) {
  post({ start: i });
  // Each case has its own seed: one failing case reproduces alone.
  const r = new Prng((job.seed * 1_000_003 + i) >>> 0);
  if (job.kind === 'configs') {
    const v = await runConfigCase(i, r, job.dir);
    for (const k of v.counts) count(k);
    if (v.bad) post({ bad: { i, ...v.bad } });
  } else await importCase(i, r);
}
post({ done: counts });

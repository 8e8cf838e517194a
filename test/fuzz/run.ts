/**
 * Runs a batch of fuzz cases in a worker thread (dist/test/fuzz/worker.js,
 * built by `npm test`) under a per-case time limit: a case that runs longer
 * is a hang, the worker is stopped and the case named.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ROOT } from '../helpers.js';
import type { FuzzJob, FuzzMessage } from './worker.js';

export interface FuzzOutcome {
  counts: Record<string, number>;
  bad: { i: number; rule: string; detail: string; input: string }[];
  hung?: number;
}

/** Per case, generous for a loaded CI machine: a case takes milliseconds (a build, tens of them). */
export const CASE_LIMIT_MS = 60_000;

export function runFuzz(job: Omit<FuzzJob, 'cli'>, env: Record<string, string> = {}): Promise<FuzzOutcome> {
  const worker = new Worker(join(ROOT, 'dist/test/fuzz/worker.js'), { workerData: { ...job, cli: join(ROOT, 'cli/bin/run.js') }, env: { ...process.env, ...env } });
  const out: FuzzOutcome = { counts: {}, bad: [] };
  let current = -1;
  let timer: NodeJS.Timeout | undefined;
  return new Promise((resolve, reject) => {
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        out.hung = current;
        void worker.terminate();
      }, CASE_LIMIT_MS);
    };
    worker.on('message', (m: FuzzMessage) => {
      if ('start' in m) {
        current = m.start;
        arm();
      } else if ('bad' in m) out.bad.push(m.bad);
      else {
        out.counts = m.done;
        clearTimeout(timer);
      }
    });
    worker.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** One line for the log (and the report): what the cases did. */
export function countsLine(what: string, n: number, o: FuzzOutcome): string {
  return `fuzz ${what}: ${n} cases — ${Object.entries(o.counts).sort().map(([k, v]) => `${k} ${v}`).join(', ')}; ${o.bad.length} broke a rule${o.hung !== undefined ? `; case ${o.hung} HUNG` : ''}`;
}

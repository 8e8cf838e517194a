/** Callgrind's output: the exact instruction count of the collected region. */
import { readFileSync } from 'node:fs';

/** Total instructions of the collected region in a callgrind output file. */
export function callgrindTotal(path: string): number | undefined {
  const text = readFileSync(path, 'utf8');
  const m = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * `npm run bench`: runs every benchmark module in this folder (files named
 * `*.bench.js` once built), or only those whose names contain one of the
 * command-line arguments. Each module prints its own figures, every one as a
 * ratio against a reference measured in the same run.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Bench = () => Promise<void>;

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .sort();
const files = all.filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)));
// A name that matches no benchmark is a mistake, not an empty success.
const unmatched = wanted.filter((w) => !all.some((f) => f.includes(w)));
if (unmatched.length) {
  process.stderr.write(`bench: no benchmark named ${unmatched.join(', ')}; the benchmarks: ${all.map((f) => f.replace(/\.bench\.js$/, '')).join(', ')}\n`);
  process.exit(2);
}

let failed = 0;
for (const f of files) {
  process.stdout.write(`\n## ${f.replace(/\.bench\.js$/, '')}\n`);
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as { default: Bench };
    await mod.default();
  } catch (e) {
    failed++;
    process.stdout.write(`bench ${f} failed: ${(e as Error).message}\n`);
  }
}
process.exit(failed ? 1 : 0);

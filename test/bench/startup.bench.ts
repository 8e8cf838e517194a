/**
 * Start-up: `allocreplay --version` and a command's `--help` (oclif loaded,
 * one command module, from the manifest) beside `node -e 0` in the same run,
 * best of 7 wall times. Goal (issue 16): `--version` ≤ 250 ms. Also checks
 * that a command other than `report html` never loads the chart libraries.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { packagePath } from '../../traces/index.js';
import { bestOf } from './import.bench.js';

export default async function bench(): Promise<void> {
  const cli = packagePath('cli', 'bin', 'run.js');
  const node = bestOf(7, ['-e', '0']);
  const version = bestOf(7, [cli, '--version']);
  const help = bestOf(7, [cli, 'db', 'runs', '--help']);
  console.log(`node -e 0: ${node.ms.toFixed(0)} ms`);
  console.log(`allocreplay --version: ${version.ms.toFixed(0)} ms = ${(version.ms / node.ms).toFixed(2)}× node -e 0, CPU ${version.cpuMs.toFixed(0)} ms vs ${node.cpuMs.toFixed(0)} ms (goal ≤ 250 ms: ${version.ms <= 250 ? 'met' : 'MISSED'})`);
  console.log(`allocreplay db runs --help: ${help.ms.toFixed(0)} ms = ${(help.ms / node.ms).toFixed(2)}× node -e 0, CPU ${help.cpuMs.toFixed(0)} ms`);
  // Which modules a command loads: vega only for report html.
  const hook = pathToFileURL(packagePath('test', 'bench', 'loaded-modules.mjs')).href;
  const register = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(hook)});`;
  // A real run of a command (it stops at the missing database, after loading everything it needs).
  const loaded = spawnSync(process.execPath, ['--import', register, cli, 'db', 'runs', '--db', '/nonexistent/results.sqlite'], { encoding: 'utf8' });
  const vega = /node_modules\/vega/.test(loaded.stderr);
  if (!/loaded .*commands\/db\/runs\.js/.test(loaded.stderr)) throw new Error(`the module hook saw nothing: ${loaded.stderr.slice(0, 300)}`);
  console.log(`chart libraries loaded by db runs: ${vega ? 'yes (MISSED)' : 'no (met)'}`);
}

if (process.argv[1]?.endsWith('startup.bench.js')) await bench();

/**
 * Runs one build command and tells what it is doing, so a build of minutes
 * is never silent. Started by buildSource as its own process (buildSource is
 * synchronous; this keeps it so while the build's output is still watched):
 *
 *   node phases.js LOG TIMEOUT_MS LABEL CMD
 *
 * All output goes to LOG. On stderr: a line per phase (configure, compile,
 * link) with the elapsed time once the build has run a second; on a
 * terminal that reports a width, the build's last line, redrawn in place.
 * Exits with the command's status (124 on timeout, after killing its group).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { killAfter } from '../../traces/index.js';

/** The phase a line of build output belongs to, if it says. */
function phaseOf(line: string): 'configure' | 'compile' | 'link' | undefined {
  if (/^(checking |configure:|-- (Configuring|Detecting|Check|Looking|Build files)|-- The C)/.test(line)) return 'configure';
  if (/(^|\s)-shared(\s|$)|\bLinking C\b|^\s*(LD|CCLD|AR)\s|\s-o\s+\S+\.(so|a)(\.\S+)?(\s|$)/.test(line)) return 'link';
  if (/\bBuilding C(XX)? object\b|^\s*(CC|CXX)\s|\b(cc|gcc|clang|g\+\+|c\+\+)(-\d+)?\s.*\s-c(\s|$)/.test(line)) return 'compile';
  return undefined;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function main(): void {
  const [log, timeoutText, label, cmd] = process.argv.slice(2);
  if (!log || !timeoutText || !label || !cmd) {
    process.stderr.write('usage: phases.js LOG TIMEOUT_MS LABEL CMD\n');
    process.exit(2);
  }
  writeFileSync(log, '');
  const started = Date.now();
  const width = process.stderr.isTTY ? (process.stderr.columns ?? 0) : 0;
  const quietFor = 1000; // ms: a build shorter than this prints nothing
  let phase: string | undefined;
  let said: string | undefined;
  let last = '';
  let drawn = false;
  const say = (): void => {
    if (!phase || phase === said || Date.now() - started < quietFor) return;
    if (drawn) process.stderr.write('\r\u001b[K');
    process.stderr.write(`${label}: ${phase} (${seconds(Date.now() - started)})\n`);
    said = phase;
    drawn = false;
  };
  const draw = (): void => {
    if (width <= 0 || !last || Date.now() - started < quietFor) return;
    process.stderr.write(`\r\u001b[K${`${label}: ${last}`.slice(0, width - 1)}`);
    drawn = true;
  };
  const child = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let partial = '';
  const take = (chunk: Buffer): void => {
    appendFileSync(log, chunk);
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const p = phaseOf(line);
      if (p && p !== phase) phase = p;
      if (line.trim()) last = line.trim();
    }
    say();
    draw();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  // A phase that started in the quiet second is still named once the second is over.
  const tick = setInterval(() => {
    say();
    draw();
  }, 500);
  const limit = killAfter(child, Number(timeoutText));
  child.on('close', (code, signal) => {
    clearInterval(tick);
    limit.cancel();
    const timedOut = limit.timedOut();
    if (drawn) process.stderr.write('\r\u001b[K');
    if (timedOut) appendFileSync(log, `\nbuild timed out after ${seconds(Number(timeoutText))}\n`);
    if (said) process.stderr.write(`${label}: ${timedOut ? 'timed out' : code === 0 ? 'done' : 'failed'} (${seconds(Date.now() - started)})\n`);
    process.exit(timedOut ? 124 : (code ?? (signal ? 128 : 1)));
  });
}

main();

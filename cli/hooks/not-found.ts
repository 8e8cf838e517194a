import type { Hook } from '@oclif/core';
import { didYouMean } from '../../engine/index.js';

/**
 * An unknown command: one line on stderr with the closest command ("did you
 * mean"), exit 2. Works without a terminal, unlike an interactive prompt.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const words = opts.id.split(':');
  const commands = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id.split(':'));
  // Compare the typed words with each command of as many words (the rest are arguments).
  let best: { id: string; typed: string } | undefined;
  for (const n of [...new Set(commands.map((c) => c.length))].sort((a, b) => b - a)) {
    if (words.length < n) continue;
    const typed = words.slice(0, n).join(' ');
    const near = didYouMean(typed, commands.filter((c) => c.length === n).map((c) => c.join(' ')));
    if (near) {
      best = { id: near, typed };
      break;
    }
  }
  const bin = opts.config.bin;
  const typed = best?.typed ?? words.join(' ');
  const hint = best ? `did you mean "${bin} ${best.id}"?` : `${bin} help lists the commands`;
  process.stderr.write(`${bin}: ${typed} is not a command; ${hint}\n`);
  process.exitCode = 2;
};

export default hook;

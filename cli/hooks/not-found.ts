import type { Hook } from '@oclif/core';
import { unknownCommandLine } from '../usage.js';

/**
 * An unknown command: one line on stderr with the closest command ("did you
 * mean"), exit 2. Works without a terminal, unlike an interactive prompt.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  process.stderr.write(`${unknownCommandLine(opts.config, opts.id)}\n`);
  process.exitCode = 2;
};

export default hook;

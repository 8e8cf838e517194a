import { Command, Errors, Flags } from '@oclif/core';
import { AllocreplayError } from '../traces/index.js';
import { parseErrorLine, usageLine } from './usage.js';

/**
 * Base of every allocreplay command: maps errors to one line on stderr and
 * the project's exit codes (0 ok, 1 failure or regression, 2 usage).
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({ description: 'print stack traces of errors', default: false, helpGroup: 'GLOBAL' }),
  };

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const debug = process.argv.includes('--debug');
    if (err instanceof AllocreplayError) {
      process.stderr.write(`allocreplay: ${err.oneLine()}\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exit(err.exitCode);
    }
    // oclif's own parse errors (unknown flag, missing argument) are usage errors.
    if (err instanceof Errors.CLIError && err.oclif?.exit !== 0) {
      if ((err as { code?: string }).code === 'EEXIT') throw err;
      const ctor = this.constructor as Command.Class;
      const usage = usageLine(this.config.bin, ctor);
      process.stderr.write(`allocreplay: ${parseErrorLine(err.message, ctor)}\n${usage ? `${usage}\n` : ''}`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exit(2);
    }
    process.stderr.write(`allocreplay: internal error: ${err.message.split('\n')[0]} (rerun with --debug and report it)\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  }

  /** Prints a value as JSON on stdout. */
  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}

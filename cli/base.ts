import { Command, Errors, Flags } from '@oclif/core';
import { AllocreplayError, runInterruptActions, setInterruptHandler } from '../traces/index.js';
import { parseErrorLine, usageLine } from './usage.js';

/** Exit status of a command stopped by a signal: 128 + its number, as shells report it. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
let handlersInstalled = false;

/**
 * Ctrl-C, SIGTERM or SIGHUP while work is in flight: undo it (kill the
 * driver's or valgrind's process group, remove temp directories and
 * half-written files — see traces/platform/cleanup) and exit 128+N. The database
 * needs nothing: every repetition is stored in one transaction, and
 * JavaScript runs none of them while this handler runs.
 */
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  setInterruptHandler((sig) => {
    runInterruptActions();
    process.stderr.write(`allocreplay: interrupted (${sig}); the measurement or file in progress was not kept\n`);
    process.exit(SIGNAL_EXIT[sig] ?? 1);
  });
}

/** The `--db` the user gave, for naming it in an error. */
function dbArgument(): string | undefined {
  const i = process.argv.indexOf('--db');
  if (i >= 0) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith('--db='))?.slice(5);
}

/**
 * Base of every allocreplay command: maps errors to one line on stderr and
 * the project's exit codes (0 ok, 1 failure or regression, 2 usage).
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({ description: 'print stack traces of errors', default: false, helpGroup: 'GLOBAL' }),
  };

  override async init(): Promise<void> {
    installSignalHandlers();
    await super.init();
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const debug = process.argv.includes('--debug');
    if (err instanceof AllocreplayError) {
      process.stderr.write(`allocreplay: ${err.oneLine()}\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exit(err.exitCode);
    }
    // oclif's own parse errors (unknown flag, missing argument, a flag's parse refusing its value) are usage errors.
    if ((err instanceof Errors.CLIError && err.oclif?.exit !== 0) || /^Parsing --/.test(err.message)) {
      if ((err as { code?: string }).code === 'EEXIT') throw err;
      const ctor = this.constructor as Command.Class;
      const usage = usageLine(this.config.bin, ctor);
      process.stderr.write(`allocreplay: ${parseErrorLine(err.message, ctor)}\n${usage ? `${usage}\n` : ''}`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exit(2);
    }
    // SQLite refusing a file (not a database, damaged, locked) is about the user's file, not a bug here.
    const sqliteCode = (err as { code?: unknown }).code;
    if (err.name === 'SqliteError' && typeof sqliteCode === 'string') {
      const db = dbArgument();
      process.stderr.write(`allocreplay: results database${db ? ` ${db}` : ''}: ${err.message.split('\n')[0]} (${sqliteCode}; pass --db with a SQLite file written by allocreplay)\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    }
    // A file the user named that cannot be opened, written or moved into place (a folder, a missing directory, no permission).
    const sys = err as NodeJS.ErrnoException & { dest?: string };
    if (typeof sys.code === 'string' && typeof sys.syscall === 'string' && typeof sys.path === 'string') {
      process.stderr.write(`allocreplay: cannot ${sys.syscall} ${sys.path}${sys.dest ? ` to ${sys.dest}` : ''}: ${sys.code} (check the path: its directory must exist, be writable, and the path must not be a directory)\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exit(1);
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

import { Help } from '@oclif/core';
import { unknownCommandLine } from './usage.js';

/** oclif's help, with `help NOSUCH` answered as an unknown command is: "did you mean", exit 2. */
export default class AllocreplayHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv);
    } catch (e) {
      const m = /^Command (.+) not found\.$/.exec((e as Error).message);
      if (!m) throw e;
      process.stderr.write(`${unknownCommandLine(this.config, m[1]!)}\n`);
      process.exit(2);
    }
  }
}

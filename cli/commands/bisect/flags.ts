import { Flags } from '@oclif/core';
import { bisectFlags, parseAssignment } from '../../../engine/index.js';
import { BaseCommand } from '../../base.js';
import { bisectCommandFlags, renderBisect, withBisect } from '../../bisect.js';

export default class BisectFlagsCommand extends BaseCommand {
  static override description = 'Find the smallest set of build-flag changes that reproduces a regression (delta debugging; interactions included)';
  static override examples = ["<%= config.bin %> bisect flags --target tinyslab --good 'TS_INLINE=1 TS_POOL=1' --bad 'TS_INLINE=0 TS_POOL=2' --trace rm256.trace.msgpack"];
  static override flags = {
    good: Flags.string({ description: "the good assignment, 'A=0 B=1 …'", required: true }),
    bad: Flags.string({ description: "the bad assignment, 'A=1 B=0 …'", required: true }),
    ...bisectCommandFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(BisectFlagsCommand);
    const r = await withBisect(flags, (common) =>
      bisectFlags({
        ...common,
        good: parseAssignment(flags.good),
        bad: parseAssignment(flags.bad),
      }),
    );
    if (flags.json) return this.printJson(r);
    this.log(renderBisect(r));
  }
}

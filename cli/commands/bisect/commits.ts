import { Flags } from '@oclif/core';
import { bisectCommits } from '../../../engine/index.js';
import { BaseCommand } from '../../base.js';
import { bisectCommandFlags, renderBisect, withBisect } from '../../bisect.js';
import { parseAssignments } from '../../common.js';

export default class BisectCommits extends BaseCommand {
  static override description = 'Find the first commit that made a trace slower, or faster with --improvement (binary search; builds and runs cached; unbuildable commits skipped, exit 2 when only they remain)';
  static override examples = ["<%= config.bin %> bisect commits --repo ../myalloc --build 'make CFLAGS_EXTRA={cflags}' --artifact libmyalloc.so --good v1.0 --bad HEAD --trace rm256.trace.msgpack"];
  static override flags = {
    good: Flags.string({ description: 'the older revision, without the change', required: true }),
    bad: Flags.string({ description: 'a newer revision, with it', required: true }),
    set: Flags.string({ description: 'compile-time flag NAME=VALUE for every build', multiple: true, default: [] }),
    'first-parent': Flags.boolean({ description: 'follow only the first parent of merges' }),
    ...bisectCommandFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(BisectCommits);
    const r = await withBisect(flags, (common) =>
      bisectCommits({
        ...common,
        good: flags.good,
        bad: flags.bad,
        flags: parseAssignments(flags.set, '--set'),
        firstParent: flags['first-parent'],
      }),
    );
    // Like `git bisect`: when only unbuildable commits are left, the candidates are the answer and the exit status is 2.
    if (r.outcome === 'candidates') process.exitCode = 2;
    if (flags.json) return this.printJson(r);
    this.log(renderBisect(r));
  }
}

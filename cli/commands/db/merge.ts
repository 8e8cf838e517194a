import { Args, Flags } from '@oclif/core';
import { mergeStore } from '../../../reports/index.js';
import { inputError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';

export default class DbMerge extends BaseCommand {
  static override description = "Import another results database (another machine's): rows matched by natural keys, so merging twice adds nothing";
  static override args = { other: Args.string({ description: 'the other results.sqlite', required: true }) };
  static override flags = { ...dbFlag, json: Flags.boolean({ description: 'print the counts as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DbMerge);
    const store = storeFor(flags.db);
    try {
      let counts: ReturnType<typeof mergeStore>;
      try {
        counts = mergeStore(store, args.other);
      } catch (e) {
        // Our own database opened fine above: SQLite refusing a file here is refusing the other one.
        if ((e as Error).name === 'SqliteError') throw inputError(`${args.other}: not an allocreplay results database (${(e as Error).message})`, 'give the path of another allocreplay results.sqlite');
        throw e;
      }
      if (flags.json) return this.printJson(counts);
      this.log(`merged ${args.other}: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
    } finally {
      store.close();
    }
  }
}

import { Args, Flags } from '@oclif/core';
import { type MergeCounts, mergeStore } from '../../../reports/index.js';
import { inputError, usageError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';

export default class DbMerge extends BaseCommand {
  static override description = "Import other results databases (other machines', other shards'): rows matched by natural keys, so merging twice adds nothing";
  static override strict = false;
  static override examples = ['<%= config.bin %> db merge --db all.sqlite .allocreplay/results.shard-*.sqlite'];
  static override args = { other: Args.string({ description: 'the other results.sqlite files (one or more)' }) };
  static override flags = { ...dbFlag, json: Flags.boolean({ description: 'print the counts as JSON (for several files: [{file, counts}, …])' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(DbMerge);
    const files = argv as string[];
    if (files.length === 0) throw usageError('no databases to merge', 'give one or more results.sqlite files, e.g. db merge --db all.sqlite shard-*.sqlite');
    const store = storeFor(flags.db);
    try {
      const merged: { file: string; counts: MergeCounts }[] = [];
      // Each file is one transaction: a bad file stops the merge with the files before it kept whole.
      for (const file of files) {
        let counts: MergeCounts;
        try {
          counts = mergeStore(store, file);
        } catch (e) {
          // Our own database opened fine above: SQLite refusing a file here is refusing that one.
          if ((e as Error).name === 'SqliteError') throw inputError(`${file}: not an allocreplay results database (${(e as Error).message})`, 'give the path of another allocreplay results.sqlite');
          throw e;
        }
        merged.push({ file, counts });
        if (!flags.json) this.log(`merged ${file}: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
      }
      if (flags.json) return this.printJson(merged.length === 1 ? merged[0]!.counts : merged);
      if (files.length > 1) this.log(`${files.length} files merged into ${store.path}`);
    } finally {
      store.close();
    }
  }
}

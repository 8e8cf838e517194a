import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';
import { table } from '../../render.js';

export default class DbQuery extends BaseCommand {
  static override description = 'Run a read-only SQL query on the results database';
  static override examples = ['<%= config.bin %> db query "SELECT target, count(*) FROM runs JOIN configurations c ON c.id = configuration_id GROUP BY target"'];
  static override args = { sql: Args.string({ description: 'SQL (read-only)', required: true }) };
  static override flags = { ...dbFlag, json: Flags.boolean({ description: 'print rows as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DbQuery);
    const store = storeFor(flags.db, true);
    try {
      const rows = store.query(args.sql);
      if (flags.json) return this.printJson(rows);
      const cols = rows.length ? Object.keys(rows[0]!) : [];
      this.log(table(cols, rows.map((r) => cols.map((c) => (r[c] === null ? '' : String(r[c]))))));
      this.log(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
    } finally {
      store.close();
    }
  }
}

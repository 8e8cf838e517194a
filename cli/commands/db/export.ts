import { writeFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { csv, exportRows } from '../../../reports/index.js';
import { failure } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, storeFor } from '../../common.js';

/** A database value as a CSV cell value (blobs as hex). */
const cell = (v: unknown): string | number | null => (v === null || v === undefined ? null : typeof v === 'number' ? v : Buffer.isBuffer(v) ? v.toString('hex') : String(v));

function parsedObject(v: unknown): unknown {
  if (typeof v !== 'string') return v ?? null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

export default class DbExport extends BaseCommand {
  static override description = 'Export every sample with its run, trace and configuration';
  static override flags = {
    ...dbFlag,
    format: Flags.string({ description: 'output format', options: ['csv', 'json'], default: 'csv' }),
    output: Flags.string({ char: 'o', description: 'file to write (default stdout)' }),
    json: Flags.boolean({ description: 'same as --format json' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DbExport);
    const store = storeFor(flags.db, true);
    try {
      const rows = exportRows(store);
      const format = flags.json ? 'json' : flags.format;
      let text: string;
      // flags and env are stored as JSON text; in JSON they are objects, in CSV they stay text.
      if (format === 'json') text = `${JSON.stringify(rows.map((r) => ({ ...r, flags: parsedObject(r.flags), env: parsedObject(r.env) })), null, 2)}\n`;
      else {
        const cols = rows.length ? Object.keys(rows[0]!) : [];
        text = csv(cols, rows.map((r) => cols.map((c) => cell(r[c]))));
      }
      if (flags.output) {
        try {
          writeFileSync(flags.output, text);
        } catch (e) {
          throw failure(`cannot write ${flags.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the directory exists and is writable');
        }
      }
      else process.stdout.write(text);
    } finally {
      store.close();
    }
  }
}

import { Args, Flags } from '@oclif/core';
import type { ImportOptions, ImportResult } from '../traces/index.js';
import { ZIP_MAX_BYTES } from '../traces/index.js';
import { BaseCommand } from './base.js';

/** The `import FORMAT FILE -o OUT` command for one dump format. */
export function importCommand(what: string, importer: (file: string, out: string, opts: ImportOptions) => Promise<ImportResult>): typeof BaseCommand {
  return class Import extends BaseCommand {
    static override description = `Import ${what} as a trace`;
    static override args = { file: Args.string({ description: 'the dump (or a .zip holding it)', required: true }) };
    static override flags = {
      output: Flags.string({ char: 'o', description: 'trace file to write', required: true }),
      lenient: Flags.boolean({ description: 'skip and count malformed lines instead of stopping at the first' }),
      entry: Flags.string({ description: 'the file to read inside a zip archive (default: its first regular file)' }),
      'zip-max-mib': Flags.integer({ description: 'refuse a zip entry that inflates beyond this many MiB', min: 1, default: Math.floor(ZIP_MAX_BYTES / 2 ** 20) }),
      json: Flags.boolean({ description: 'print the summary as JSON' }),
    };

    async run(): Promise<void> {
      const { args, flags } = await this.parse(Import);
      const r = await importer(args.file, flags.output, {
        lenient: flags.lenient,
        maxBytes: flags['zip-max-mib'] * 2 ** 20,
        ...(flags.entry === undefined ? {} : { entry: flags.entry }),
      });
      if (flags.json) return this.printJson({ path: flags.output, ...r.footer, ...r.counts, lines: r.lines, skipped: r.skipped, entry: r.entry });
      if (r.entry !== undefined) this.log(`read '${r.entry}' from the zip archive`);
      this.log(renderImport(flags.output, r));
    }
  };
}

/** The summary printed after an import (here rather than in render.ts, which loads reports/ and SQLite: an import needs neither). */
function renderImport(out: string, r: ImportResult): string {
  const c = r.counts;
  return [
    `${out}: ${r.footer.events.toLocaleString('en-US')} events, ${r.footer.objects.toLocaleString('en-US')} objects, ${r.footer.threads} thread${r.footer.threads === 1 ? '' : 's'} from ${r.lines.toLocaleString('en-US')} lines`,
    `not replayed: ${c.unknownFrees} frees of unknown pointers, ${c.nullFrees} free(NULL)${c.lostFrees ? `, ${c.lostFrees} missed frees synthesised` : ''}${r.skipped ? `; ${r.skipped} malformed lines skipped (--lenient)` : ''}`,
  ].join('\n');
}

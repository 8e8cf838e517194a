import { Args, Flags } from '@oclif/core';
import type { ImportResult } from '../traces/index.js';
import { BaseCommand } from './base.js';
import { renderImport } from './render.js';

/** The `import FORMAT FILE -o OUT` command for one dump format. */
export function importCommand(what: string, importer: (file: string, out: string, opts: { lenient: boolean }) => ImportResult): typeof BaseCommand {
  return class Import extends BaseCommand {
    static override description = `Import ${what} as a trace`;
    static override args = { file: Args.string({ description: 'the dump', required: true }) };
    static override flags = {
      output: Flags.string({ char: 'o', description: 'trace file to write', required: true }),
      lenient: Flags.boolean({ description: 'skip and count malformed lines instead of stopping at the first' }),
      json: Flags.boolean({ description: 'print the summary as JSON' }),
    };

    async run(): Promise<void> {
      const { args, flags } = await this.parse(Import);
      const r = importer(args.file, flags.output, { lenient: flags.lenient });
      if (flags.json) return this.printJson({ path: flags.output, ...r.footer, ...r.counts, lines: r.lines, skipped: r.skipped });
      this.log(renderImport(flags.output, r));
    }
  };
}

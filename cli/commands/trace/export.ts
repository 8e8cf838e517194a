import { Args, Flags } from '@oclif/core';
import { exportAosp } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';

export default class TraceExport extends BaseCommand {
  static override description = 'Export a trace for other tools (Android memory_replay text format)';
  static override args = { file: Args.string({ description: 'trace file', required: true }) };
  static override flags = {
    format: Flags.string({ description: 'output format', options: ['aosp'], default: 'aosp' }),
    output: Flags.string({ char: 'o', description: 'file to write (default stdout)' }),
    json: Flags.boolean({ description: 'print a summary as JSON (with -o)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceExport);
    const lines = exportAosp(args.file, flags.output);
    if (flags.output) {
      if (flags.json) return this.printJson({ path: flags.output, format: flags.format, lines });
      this.log(`${flags.output}: ${lines.toLocaleString('en-US')} lines`);
    }
  }
}

import { Args, Flags } from '@oclif/core';
import { inputError, validateTrace } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';

export default class TraceValidate extends BaseCommand {
  static override description = 'Check a trace: structure, object ids, checksum (exit 0 when valid)';
  static override args = { file: Args.string({ description: 'trace file', required: true }) };
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceValidate);
    const r = validateTrace(args.file);
    // A cut-short trace can be read (up to its last whole chunk) but is not valid.
    if (!r.footer) throw inputError(`${args.file}: trace is cut short (no footer)`, 'record or generate it again; `trace info` reads its whole chunks');
    const { events } = r.footer;
    const checksum = r.checksum!;
    if (flags.json) return this.printJson({ path: args.file, valid: true, events, checksum });
    this.log(`${args.file}: valid, ${events} events`);
  }
}

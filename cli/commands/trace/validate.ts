import { Args, Flags } from '@oclif/core';
import { AllocreplayError, inputError, validateTrace } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';

export default class TraceValidate extends BaseCommand {
  static override description = 'Check a trace: structure, object ids, checksum (exit 0 when valid)';
  static override args = { file: Args.string({ description: 'trace file', required: true }) };
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceValidate);
    let r;
    try {
      r = validateTrace(args.file);
      // A cut-short trace can be read (up to its last whole chunk) but is not valid.
      if (!r.footer) throw inputError(`${args.file}: trace is cut short (no footer)`, 'record or generate it again; `trace info` reads its whole chunks');
    } catch (e) {
      // --json says why on stdout too; the exit status is the same as without it.
      if (flags.json && e instanceof AllocreplayError) {
        this.printJson({ path: args.file, valid: false, error: e.message, hint: e.hint ?? null });
        process.exit(e.exitCode);
      }
      throw e;
    }
    const { events } = r.footer!;
    const checksum = r.checksum!;
    if (flags.json) return this.printJson({ path: args.file, valid: true, events, checksum });
    this.log(`${args.file}: valid, ${events} events`);
  }
}

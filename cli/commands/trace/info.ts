import { Args, Flags } from '@oclif/core';
import { renderTraceInfo, traceInfo } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';

export default class TraceInfo extends BaseCommand {
  static override description = 'Summarise a trace: events by op, objects, threads, sizes, peak live memory, bytes per event';
  static override args = { file: Args.string({ description: 'trace file', required: true }) };
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TraceInfo);
    const info = traceInfo(args.file);
    for (const w of info.warnings) process.stderr.write(`allocreplay: warning: ${w}\n`);
    if (flags.json) return this.printJson(info);
    this.log(renderTraceInfo(info));
  }
}

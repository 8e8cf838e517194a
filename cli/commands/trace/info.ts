import { Args, Flags } from '@oclif/core';
import { renderTraceInfo, traceInfo } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';

export default class TraceInfo extends BaseCommand {
  static override description = 'Summarise traces: events by op, objects, threads, sizes, peak live memory, bytes per event (several files: one summary each, e.g. the set record --follow-forks writes)';
  static override strict = false;
  static override args = { file: Args.string({ description: 'trace file', required: true }) };
  static override flags = { json: Flags.boolean({ description: 'print as JSON (an array when several files are given)' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(TraceInfo);
    const infos = (argv as string[]).map((f) => traceInfo(f));
    for (const info of infos) for (const w of info.warnings) process.stderr.write(`allocreplay: warning: ${w}\n`);
    if (flags.json) return this.printJson(infos.length === 1 ? infos[0] : infos);
    this.log(infos.map((info) => renderTraceInfo(info)).join('\n\n'));
  }
}

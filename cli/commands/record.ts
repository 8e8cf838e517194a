import { Flags } from '@oclif/core';
import { formatBytes, record, usageError } from '../../traces/index.js';
import { BaseCommand } from '../base.js';
import { Progress } from '../progress.js';

/** What the trace lacks when the command ran other processes: `; 2 child processes ran unrecorded (--follow-forks records them)`. */
function unrecordedNote(n: number): string {
  return n ? `; ${n} child process${n === 1 ? '' : 'es'} ran unrecorded (--follow-forks records ${n === 1 ? 'it' : 'them'})` : '';
}

export default class Record extends BaseCommand {
  static override description = 'Record the allocation calls of a program into a trace; its exit status passes through';
  static override strict = false;
  static override usage = 'record [-o FILE] [--follow-forks] -- CMD [ARGS…]';
  static override examples = ['<%= config.bin %> record -o app.trace.msgpack -- ./app --serve', '<%= config.bin %> record --follow-forks -o build.trace.msgpack -- make -j2'];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'trace file', default: 'recorded.trace.msgpack' }),
    'follow-forks': Flags.boolean({ description: 'also record child processes, one trace each (FILE.<pid>.trace.msgpack)' }),
    json: Flags.boolean({ description: 'print the summary as JSON' }),
  };

  async run(): Promise<void> {
    // Everything after `--` is the command, untouched: its own flags (`sort -o x`) are not ours.
    const dash = this.argv.indexOf('--');
    const own = dash < 0 ? this.argv : this.argv.slice(0, dash);
    const command = dash < 0 ? [] : this.argv.slice(dash + 1); // parse() replaces this.argv
    const { argv, flags } = await this.parse(Record, own);
    const [cmd, ...args] = [...(argv as string[]), ...command];
    if (!cmd) throw usageError('no command to record', 'give it after --, e.g. allocreplay record -o app.trace.msgpack -- ./app');
    const progress = new Progress('record', 0);
    const r = await record(cmd, args, { out: flags.output, followForks: flags['follow-forks'], onConvert: (w) => progress.doing(w) });
    progress.stop();
    const summary = r.traces.map((t) => ({
      ...t.counts,
      lostRecords: t.lostRecords,
      lateRecords: t.lateRecords,
      pid: t.pid,
      path: t.path,
      events: t.footer.events,
      threads: t.footer.threads,
      peakLiveBytes: t.footer.peakLiveBytes,
    }));
    if (flags.json) this.printJson({ status: r.status, wallMs: r.wallMs, converterPeakRssKiB: r.converterPeakRssKiB, unrecordedProcesses: r.unrecordedProcesses, traces: summary, images: r.images });
    else {
      for (const t of summary) {
        process.stderr.write(
          `allocreplay: recorded ${t.path}: ${t.events.toLocaleString('en-US')} events (${t.nullFrees} of them free(NULL)), ${t.threads} thread${t.threads === 1 ? '' : 's'}, peak live ${formatBytes(t.peakLiveBytes)}` +
            `; not replayed: ${t.unknownFrees} frees of unknown pointers${t.lostFrees ? `; ${t.lostFrees} missed frees synthesised` : ''}` +
            `${t.lostRecords ? `; ${t.lostRecords} calls lost (made while the program was exiting)` : ''}; ${r.wallMs} ms wall${t === summary[0] ? unrecordedNote(r.unrecordedProcesses) : ''}\n`,
        );
      }
      if (r.traces.length === 0 && r.unrecordedProcesses) process.stderr.write(`allocreplay: ${unrecordedNote(r.unrecordedProcesses).slice(2)}\n`);
      if (r.traces.length === 0) process.stderr.write('allocreplay: the command made no recorded allocations\n');
    }
    process.exit(r.status);
  }
}

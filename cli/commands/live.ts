import { Flags } from '@oclif/core';
import { liveRuns, loadConfig, traceFile } from '../../engine/index.js';
import { openTrace, programIdentity, type ProgramIdentity, usageError } from '../../traces/index.js';
import { BaseCommand } from '../base.js';
import { applyJobs, dbFlag, inlineSourceFlags, inlineTarget, jobsFlag, parseAssignments, storeFor } from '../common.js';
import { renderLive, liveJson } from '../live.js';
import { Progress } from '../progress.js';
import { exportFlags, writeExports } from '../report.js';

export default class Live extends BaseCommand {
  static override description = 'Run a real program under allocators (as a replay runs its trace) and store its wall, CPU, peak RSS and page faults';
  static override strict = false;
  static override usage = ['live [-t TARGET…] [--repeat N] -- CMD [ARGS…]', 'live [-t TARGET…] --from TRACE'];
  static override examples = [
    '<%= config.bin %> live -t system -t jemalloc -t mimalloc -- perl -e \'my %h; $h{$_} = [$_] for 1 .. 500000\'',
    '<%= config.bin %> live --from app.trace.msgpack -t system -t mimalloc -t tinyslab --repeat 10',
  ];
  static override flags = {
    from: Flags.string({ description: 'run the program a recording ran (its header stores argv, cwd, binary hash and environment)' }),
    target: Flags.string({ char: 't', description: 'allocator: system, jemalloc, mimalloc, tcmalloc, tinyslab, a target of allocreplay.yaml, or a .so path', multiple: true, default: [] }),
    set: Flags.string({ description: 'compile-time flag of source targets, NAME=VALUE', multiple: true, default: [] }),
    env: Flags.string({ description: 'runtime environment for the allocator, NAME=VALUE', multiple: true, default: [] }),
    ...inlineSourceFlags,
    repeat: Flags.integer({ description: 'measured runs per target', default: 5, min: 1, max: 1000 }),
    warmup: Flags.integer({ description: 'unmeasured runs per target first', default: 1, min: 0 }),
    timeout: Flags.integer({ description: 'seconds before a run is killed and recorded as timeout', default: 300, min: 1 }),
    'expect-exit': Flags.integer({ description: 'the exit status of a run that went as recorded', default: 0, min: 0, max: 255 }),
    pgo: Flags.string({ description: 'build source targets with profile-guided optimisation trained on these traces (comma-separated)' }),
    ...jobsFlag,
    ...dbFlag,
    ...exportFlags,
    json: Flags.boolean({ description: 'print one object per target' }),
  };

  async run(): Promise<void> {
    // Everything after `--` is the program, untouched: its own flags are not ours.
    const dash = this.argv.indexOf('--');
    const own = dash < 0 ? this.argv : this.argv.slice(0, dash);
    const command = dash < 0 ? [] : this.argv.slice(dash + 1);
    const { argv, flags } = await this.parse(Live, own);
    const given = [...(argv as string[]), ...command];
    applyJobs(flags.jobs);
    const inline = inlineTarget(loadConfig(), flags);
    const config = inline.config;
    let program: ProgramIdentity;
    if (flags.from) {
      if (given.length) throw usageError('give either --from TRACE or a command after --, not both', 'the recording already names its program');
      const reader = openTrace(traceFile(config, flags.from));
      const p = reader.header.program;
      reader.close();
      if (!p) throw usageError(`${flags.from} does not say what program it ran (it was ${reader.header.producer.kind === 'record' ? 'recorded before traces stored their program' : `made by ${reader.header.producer.kind}`})`, 'record the program again with allocreplay record, or give the command after --');
      program = p;
    } else {
      if (!given.length) throw usageError('no program to run', 'give it after --, e.g. allocreplay live -t system -t jemalloc -- ./app, or --from app.trace.msgpack');
      program = programIdentity(given);
    }
    const targets = [...flags.target, ...(inline.name ? [inline.name] : [])];
    if (targets.length === 0) targets.push('system');
    const store = storeFor(flags.db ?? config?.db);
    const progress = new Progress('live', 0);
    try {
      const session = store.beginSession(process.argv.slice(2));
      const { outcomes, ready, workload } = await liveRuns(
        store,
        session,
        {
          program,
          targets,
          set: parseAssignments(flags.set, '--set'),
          env: parseAssignments(flags.env, '--env'),
          config,
          options: { repeat: flags.repeat, warmup: flags.warmup, timeoutMs: flags.timeout * 1000, expectExit: flags['expect-exit'] },
          dirty: flags.dirty,
          ...(flags.pgo ? { pgo: flags.pgo.split(',').filter(Boolean).map((t) => traceFile(config, t)) } : {}),
        },
        { onLog: (l) => progress.log(l), onTotal: (n) => progress.setTotal(n), onStart: (label, round) => progress.tick(`${label}, run ${round + 1}`) },
      );
      progress.stop();
      writeExports(flags, (format) => renderLive(outcomes, format));
      if (flags.json) this.printJson(liveJson(outcomes));
      else {
        this.log(renderLive(outcomes));
        this.log(`\n${outcomes.length} live configuration${outcomes.length === 1 ? '' : 's'} of ${workload} stored in ${store.path} (session ${session}); select them with mode=live`);
      }
      const unbuilt = ready.filter((r) => r.buildError);
      for (const r of unbuilt) process.stderr.write(`allocreplay: build of ${r.target.name} failed: ${r.buildError} (log: ${r.buildLog ?? 'none kept'})\n`);
      if (unbuilt.length || outcomes.some((o) => o.status !== 'ok')) process.exitCode = 1;
    } finally {
      progress.stop();
      store.close();
    }
  }
}

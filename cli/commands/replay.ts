import { Args, Flags } from '@oclif/core';
import { loadConfig, replayTraces, traceFile } from '../../engine/index.js';
import { BaseCommand } from '../base.js';
import { dbFlag, inlineSourceFlags, inlineTarget, parseAssignments, replayFlags, replayOptions, jobsFlag, applyJobs, storeFor } from '../common.js';
import { Progress } from '../progress.js';
import { exportFlags, writeExports } from '../report.js';
import { outcomesJson, renderOutcomes } from '../render.js';

export default class Replay extends BaseCommand {
  static override description = 'Replay traces through real allocators and store every run';
  static override strict = false;
  static override examples = [
    '<%= config.bin %> replay rm256.trace.msgpack --target system --target jemalloc',
    '<%= config.bin %> replay rm256.trace.msgpack --target tinyslab --set TS_POOL=2 --metric instructions',
  ];
  static override args = { traces: Args.string({ description: 'trace files', required: true }) };
  static override flags = {
    target: Flags.string({ char: 't', description: 'allocator: system, jemalloc, mimalloc, tcmalloc, tinyslab, a target of allocreplay.yaml, or a .so path', multiple: true, default: [] }),
    set: Flags.string({ description: 'compile-time flag of source targets, NAME=VALUE', multiple: true, default: [] }),
    env: Flags.string({ description: 'runtime environment for the allocator, NAME=VALUE', multiple: true, default: [] }),
    ...inlineSourceFlags,
    ...replayFlags,
    ...jobsFlag,
    ...dbFlag,
    ...exportFlags,
    json: Flags.boolean({ description: 'print one object per trace × target' }),
    pgo: Flags.string({ description: 'build source targets with profile-guided optimisation trained on these traces (comma-separated files or allocreplay.yaml trace names); their checksums are part of the configuration' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Replay);
    const traces = argv as string[];
    const options = replayOptions(flags);
    applyJobs(flags.jobs);
    const set = parseAssignments(flags.set, '--set');
    const env = parseAssignments(flags.env, '--env');
    const inline = inlineTarget(loadConfig(), flags);
    const config = inline.config;
    for (let i = 0; i < traces.length; i++) traces[i] = traceFile(config, traces[i]!);
    const targets = [...flags.target, ...(inline.name ? [inline.name] : [])];
    if (targets.length === 0) targets.push('system');
    const store = storeFor(flags.db ?? config?.db);
    const progress = new Progress('replay', 0, options.metric === 'instructions');
    try {
      const session = store.beginSession(process.argv.slice(2));
      const { outcomes, ready } = await replayTraces(
        store,
        session,
        { traces, targets, set, env, config, options, dirty: flags.dirty, ...(flags.pgo ? { pgo: flags.pgo.split(',').filter(Boolean).map((t) => traceFile(config, t)) } : {}) },
        {
          onPlanning: (t) => progress.doing(`planning ${t}`),
          onLog: (line) => progress.log(line),
          onTotal: (n) => progress.setTotal(n),
          onStart: (j) => progress.tick(`${j.trace.name} × ${j.label}`),
        },
      );
      progress.stop();
      writeExports(flags, (format) => renderOutcomes(outcomes, options.metric, [], format));
      if (flags.json) this.printJson(outcomesJson(outcomes, options.metric));
      else {
        this.log(renderOutcomes(outcomes, options.metric));
        this.log(`\n${outcomes.length} run${outcomes.length === 1 ? '' : 's'} stored in ${store.path} (session ${session})`);
      }
      // A target that could not be built is the user's to fix: name its log and fail the command.
      const unbuilt = ready.filter((r) => r.buildError);
      for (const r of unbuilt) process.stderr.write(`allocreplay: build of ${r.target.name} failed: ${r.buildError} (log: ${r.buildLog ?? 'none kept'})\n`);
      if (unbuilt.length) process.exitCode = 1;
    } finally {
      progress.stop();
      store.close();
    }
  }
}

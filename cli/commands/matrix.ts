import { Args, Flags } from '@oclif/core';
import { loadConfig, planTrace, runMatrix, traceFile } from '../../engine/index.js';
import { usageError } from '../../traces/index.js';
import { BaseCommand } from '../base.js';
import { dbFlag, inlineSourceFlags, inlineTarget, parseAxes, replayFlags, replayOptions, jobsFlag, applyJobs, reuseFlags, storeFor } from '../common.js';
import { Progress } from '../progress.js';
import { exportFlags, writeExports } from '../report.js';
import { outcomesJson, renderMatrix } from '../render.js';

export default class Matrix extends BaseCommand {
  static override description = 'Measure traces × targets × revisions × flag values; configurations already measured here are skipped';
  static override strict = false;
  static override examples = [
    '<%= config.bin %> matrix rm256.trace.msgpack rm8192.trace.msgpack -t system -t tinyslab --set TS_POOL=1,2 --set TS_TLS_CACHE=0,1',
    '<%= config.bin %> matrix rm256.trace.msgpack -t tinyslab --set TS_INLINE=0,1 --metric instructions',
    '<%= config.bin %> matrix --name nightly   # a matrix of allocreplay.yaml',
  ];
  static override args = { traces: Args.string({ description: 'trace files (or names from allocreplay.yaml)' }) };
  static override flags = {
    name: Flags.string({ description: 'a matrix defined in allocreplay.yaml' }),
    target: Flags.string({ char: 't', description: 'targets', multiple: true, default: [] }),
    rev: Flags.string({ description: 'revisions of source targets: A,B lists or A..B git ranges (the commits after A up to B)', multiple: true, default: [] }),
    set: Flags.string({ description: 'flag axis NAME=a,b,… (a comma inside a value: \\,)', multiple: true, default: [] }),
    env: Flags.string({ description: "runtime environment axis NAME=a,b,… (one value with commas: 'MALLOC_CONF=tcache:false\\,narenas:1')", multiple: true, default: [] }),
    exclude: Flags.string({ description: "leave out configurations matching 'NAME=a,OTHER=b'", multiple: true, default: [] }),
    ...reuseFlags,
    ...inlineSourceFlags,
    ...replayFlags,
    ...jobsFlag,
    ...dbFlag,
    pgo: Flags.string({ description: 'build source targets with profile-guided optimisation trained on these traces (comma-separated files or allocreplay.yaml trace names); their checksums are part of each configuration' }),
    ...exportFlags,
    json: Flags.boolean({ description: 'print {configurations, skipped, measured, builds, runs}: runs has one object per trace × configuration, as replay --json' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Matrix);
    const inline = inlineTarget(loadConfig(), flags);
    const config = inline.config;
    const named = flags.name ? config?.matrices[flags.name] : undefined;
    if (flags.name && !named) throw usageError(`no matrix '${flags.name}' in ${config?.path ?? 'allocreplay.yaml (none found)'}`, 'define it under matrices:');
    const traceArgs = [...(named?.traces ?? []), ...(argv as string[])].map((t) => traceFile(config, t));
    const targets = [...(named?.targets ?? []), ...flags.target, ...(inline.name ? [inline.name] : [])];
    if (traceArgs.length === 0) throw usageError('no traces given', 'pass trace files, or --name of a matrix in allocreplay.yaml');
    if (targets.length === 0) throw usageError('no targets given', 'pass --target (system, jemalloc, tinyslab, …)');
    const options = replayOptions(flags);
    applyJobs(flags.jobs);
    const store = storeFor(flags.db ?? config?.db);
    const progress = new Progress('matrix', 0, options.metric === 'instructions');
    try {
      const session = store.beginSession(process.argv.slice(2));
      const result = await runMatrix(
        store,
        session,
        {
          traces: traceArgs,
          targets,
          revs: [...(named?.revs ?? []), ...flags.rev.flatMap((r) => r.split(','))],
          set: parseAxes(flags.set, '--set', named?.set),
          env: parseAxes(flags.env, '--env', named?.env),
          exclude: [...(named?.exclude ?? []), ...flags.exclude],
          options,
          force: flags.force,
          retryFailed: flags['retry-failed'],
          dirty: flags.dirty,
          ...(flags.pgo ? { pgo: flags.pgo.split(',').filter(Boolean).map((t) => planTrace(store, traceFile(config, t))) } : {}),
        },
        config,
        {
          onBuild: (label, r) => {
            if (r.buildError) progress.log(`build FAILED ${label}: ${r.buildError}`);
            else if (!r.cached) progress.log(`built ${label}`);
          },
          onPlan: (todo) => progress.setTotal(todo * (options.metric === 'time' ? options.repeat : 1)),
          onStart: (j) => progress.tick(`${j.trace.name} × ${j.label}`),
        },
      );
      progress.stop();
      writeExports(flags, (format) => renderMatrix(result.outcomes, options.metric, format));
      if (flags.json) return this.printJson({ configurations: result.configurations, skipped: result.skipped, measured: result.measured, builds: result.builds, runs: outcomesJson(result.outcomes, options.metric) });
      this.log(renderMatrix(result.outcomes, options.metric));
      const b = result.builds;
      this.log(`\n${result.configurations} configuration runs: ${result.measured} measured, ${result.skipped} already stored (skipped); builds: ${b.done} built, ${b.cached} cached, ${b.failed} failed`);
      this.log(`results in ${store.path}`);
    } finally {
      progress.stop();
      store.close();
    }
  }
}

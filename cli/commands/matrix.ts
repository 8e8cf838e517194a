import { Args, Flags } from '@oclif/core';
import { chooseShard, loadConfig, planTrace, requestedMatrix, runMatrix, SHARD_COUNT_ENV, shardDbPath, traceFile } from '../../engine/index.js';
import { defaultDbPath } from '../../reports/index.js';
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
    "parallel <%= config.bin %> matrix rm256.trace.msgpack -t tinyslab --set TS_POOL=0,1,2 --shard {}/4 ::: 1 2 3 4   # four shards, four databases",
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
    shard: Flags.string({ description: 'measure only part K of N (K/N, from 1); without it, Slurm array, Kubernetes Indexed Job or GNU parallel variables are used when set' }),
    'shard-count': Flags.integer({ description: `number of shards where the scheduler does not export it (Kubernetes completions, GNU parallel); or set ${SHARD_COUNT_ENV}`, min: 1 }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Matrix);
    const inline = inlineTarget(loadConfig(), flags);
    const config = inline.config;
    const matrix = requestedMatrix(config, flags.name, {
      traces: argv as string[],
      targets: [...flags.target, ...(inline.name ? [inline.name] : [])],
      revs: flags.rev.flatMap((r) => r.split(',')),
      set: parseAxes(flags.set, '--set'),
      env: parseAxes(flags.env, '--env'),
      exclude: flags.exclude,
    });
    const options = replayOptions(flags);
    applyJobs(flags.jobs);
    const shard = chooseShard(flags.shard, flags['shard-count']);
    // Each shard writes its own database: nothing but the inputs is shared between machines.
    const store = storeFor(flags.db ?? (shard ? shardDbPath(config?.db ?? defaultDbPath(), shard) : config?.db));
    if (shard) this.logToStderr(`shard ${shard.index}/${shard.count} (from ${shard.source}); results in ${store.path}`);
    const progress = new Progress('matrix', 0, options.metric === 'instructions');
    try {
      const session = store.beginSession(process.argv.slice(2));
      const result = await runMatrix(
        store,
        session,
        {
          ...matrix,
          options,
          force: flags.force,
          retryFailed: flags['retry-failed'],
          dirty: flags.dirty,
          ...(flags.pgo ? { pgo: flags.pgo.split(',').filter(Boolean).map((t) => planTrace(store, traceFile(config, t))) } : {}),
          ...(shard ? { shard } : {}),
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
      if (flags.json) return this.printJson({ configurations: result.configurations, skipped: result.skipped, measured: result.measured, builds: result.builds, ...(result.shard ? { shard: result.shard } : {}), runs: outcomesJson(result.outcomes, options.metric) });
      const sh = result.shard;
      if (sh && sh.mine === 0) {
        this.log(`shard ${sh.index}/${sh.count} has nothing to measure: the matrix has ${sh.units} work unit${sh.units === 1 ? '' : 's'} for ${sh.count} shards`);
        return;
      }
      this.log(renderMatrix(result.outcomes, options.metric));
      const b = result.builds;
      if (sh) this.log(`\nshard ${sh.index}/${sh.count}: ${sh.mine} of ${sh.units} work units, ${((100 * sh.cost) / Math.max(1, sh.totalCost)).toFixed(0)}% of the expected cost`);
      this.log(`\n${result.configurations} configuration runs: ${result.measured} measured, ${result.skipped} already stored (skipped); builds: ${b.done} built, ${b.cached} cached, ${b.failed} failed`);
      this.log(`results in ${store.path}`);
    } finally {
      progress.stop();
      store.close();
    }
  }
}

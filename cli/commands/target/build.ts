import { Args, Flags } from '@oclif/core';
import { buildSource, loadConfig, resolveTargetSpec } from '../../../engine/index.js';
import { usageError } from '../../../traces/index.js';
import { BaseCommand } from '../../base.js';
import { dbFlag, inlineSourceFlags, jobsFlag, inlineTarget, parseAssignments, storeFor } from '../../common.js';

export default class TargetBuild extends BaseCommand {
  static override description = 'Build a source target at a revision under build flags (cached; never in your checkout)';
  static override examples = ['<%= config.bin %> target build tinyslab --set TS_POOL=2', "<%= config.bin %> target build --repo ../myalloc --build 'make CFLAGS_EXTRA={cflags}' --artifact libmyalloc.so --rev HEAD~3"];
  static override args = { name: Args.string({ description: 'tinyslab or a source target of allocreplay.yaml' }) };
  static override flags = {
    rev: Flags.string({ description: 'revision to build (default HEAD)' }),
    set: Flags.string({ description: 'compile-time flag NAME=VALUE', multiple: true, default: [] }),
    force: Flags.boolean({ description: 'build again, from a clean directory, even when a build (ok or failed) is cached' }),
    ...jobsFlag,
    ...inlineSourceFlags,
    ...dbFlag,
    json: Flags.boolean({ description: 'print the build result as JSON' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TargetBuild);
    const inline = inlineTarget(loadConfig(), flags);
    const name = inline.name ?? args.name;
    if (!name) throw usageError('which target?', 'name one (tinyslab, or a source target of allocreplay.yaml), or pass --repo, --build and --artifact');
    const spec = resolveTargetSpec(name, inline.config);
    if (spec.kind !== 'source') throw usageError(`target ${name} is not built from source`, 'only source targets are built');
    const store = storeFor(flags.db ?? inline.config?.db);
    let failed = false;
    try {
      const r = buildSource(spec.source, { ...(flags.rev ? { rev: flags.rev } : {}), flags: parseAssignments(flags.set, '--set'), store, dirty: flags.dirty, force: flags.force, ...(flags.jobs ? { jobs: flags.jobs } : {}) });
      failed = r.status === 'failed';
      if (flags.json) this.printJson(r);
      else {
        this.log(`${name} @ ${r.commit.slice(0, 12)}: ${r.status}${r.cached ? ' (cached)' : ` in ${r.durationMs} ms`}`);
        if (r.artifactPath) this.log(`artifact ${r.artifactPath}`);
        if (failed) this.log(`log tail (${r.logPath}):\n${r.logTail.map((l) => `  ${l}`).join('\n')}`);
      }
    } finally {
      store.close();
    }
    if (failed) process.exit(1);
  }
}

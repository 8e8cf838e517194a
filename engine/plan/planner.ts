/** The native planner's build recipe: its C sources and headers, compiled on first use and cached. */
import { join } from 'node:path';
import { compileNative, type NativeBuild, packagePath } from '../../traces/index.js';

/** How the planner (engine/native/planner.c) is compiled: it reads traces with traces/native/trace_in.c. */
export function plannerBuild(): NativeBuild {
  const dir = packagePath('engine', 'native');
  const shared = packagePath('traces', 'native');
  return {
    name: 'planner',
    sources: [join(dir, 'planner.c'), ...['trace_in.c', 'trace_live.c', 'msgpack_in.c', 'sha256.c'].map((f) => join(shared, f))],
    deps: [join(dir, 'plan.h'), ...['trace_in.h', 'trace_live.h', 'msgpack_in.h', 'sha256.h', 'u64map.h', 'trace_out.h'].map((f) => join(shared, f))],
    cflags: [`-I${shared}`],
    ldflags: ['-lz', '-lm', '-lpthread'],
  };
}

/** The planner binary, compiled on first use and cached. */
export function plannerPath(): string {
  return compileNative(plannerBuild());
}

/** The driver's build recipe: its C sources and headers, compiled on first use and cached. */
import { join } from 'node:path';
import { compileNative, type NativeBuild, packagePath } from '../../traces/index.js';

/**
 * How the driver is compiled: its sources, the headers they include, and where from.
 * `debug` builds it with AR_DEBUG, which checks its stated invariants (engine/native/ar_assert.h).
 */
export function driverBuild(debug = false): NativeBuild {
  const dir = packagePath('engine', 'native');
  const shared = packagePath('traces', 'native');
  const vendor = join(dir, 'vendor');
  return {
    name: debug ? 'replay-debug' : 'replay',
    sources: ['replay.c', 'args.c', 'crash.c', 'counters.c', 'serial.c', 'threads.c', 'report.c', 'plan.c', 'stream.c', 'pace.c', 'serial_model.c'].map((f) => join(dir, f)),
    deps: [join(dir, 'driver.h'), join(dir, 'plan.h'), join(dir, 'pace.h'), join(dir, 'ar_assert.h'), join(shared, 'ar_text.h'), join(vendor, 'valgrind', 'valgrind.h'), join(vendor, 'valgrind', 'callgrind.h')],
    // The vendored valgrind headers: replay builds without valgrind's development files.
    cflags: [`-I${vendor}`, `-I${shared}`, ...(debug ? ['-DAR_DEBUG'] : [])],
    ldflags: ['-lpthread'],
  };
}

/** The driver binary (`debug`: the build that checks its invariants), compiled on first use and cached. */
export function driverPath(debug = false): string {
  return compileNative(driverBuild(debug));
}

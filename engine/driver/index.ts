export { driverBuild, driverPath } from './build.js';
export { callgrindTotal } from './callgrind.js';
export { DEFAULT_PACE_SCALE, type ReplayChecks, type ReplayOptions, type RunResult, type SampleFigures } from './options.js';
export { parseDriverOutput, signalName, stderrTail } from './output.js';
export { discardProfile, runReplay } from './run.js';
export { parseStats } from './stats.js';

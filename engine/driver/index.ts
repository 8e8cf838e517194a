export type { Metric, RunStatus } from '../../reports/index.js';
export { driverBuild, driverPath } from './build.js';
export { callgrindTotal } from './callgrind.js';
export { DEFAULT_PACE_SCALE, type PaceMode, type ReplayChecks, type ReplayMode, type ReplayOptions, type RunResult, type SampleFigures, type TouchMode } from './options.js';
export { parseDriverOutput, signalName, stderrTail } from './output.js';
export { discardProfile, runReplay } from './run.js';
export { parseStats } from './stats.js';

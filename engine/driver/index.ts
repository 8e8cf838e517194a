export type { Metric, RunStatus } from '../../reports/index.js';
export * from './driver.js';

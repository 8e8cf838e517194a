export { type DemoHistory, makeDemoHistory, SPLIT_SUBJECT } from './history.js';
export * from './story.js';
export { type PgoFinding, pooledChange } from './pgo.js';
export * from './demo.js';
export * from './report.js';
export { DEMO_PROGRAM, type DemoFidelity, demoFidelity } from './fidelity.js';

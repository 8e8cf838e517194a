export type { StoredBisection } from './bisections.js';
export type { TraceEntry } from './catalog.js';
export { type MachineIdentity, machineIdentity, machineKey, type RunMachine, runMachines, toolchainOf } from './machine.js';
export type { MergeCounts } from './merge.js';
export { defaultDbPath } from './path.js';
export * from './rows.js';
export type { RunFilter, RunUpdate } from './runs.js';
export * from './store.js';
export * from './listing.js';

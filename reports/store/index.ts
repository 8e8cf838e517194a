export { type MachineIdentity, machineIdentity, type RunMachine, runMachines, toolchainOf } from './machine.js';
export { type MergeCounts, mergeStore } from './merge.js';
export * from './rows.js';
export * from './store.js';
export * from './listing.js';
export * from './calibration.js';

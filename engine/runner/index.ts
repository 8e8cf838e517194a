export * from './measure.js';
export * from './targets.js';
export * from './matrix.js';
export * from './replay.js';
export * from './calibrate.js';

export * from './program.js';
export * from './time.js';

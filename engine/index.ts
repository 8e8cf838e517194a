export * from './plan/index.js';
export * from './targets/index.js';
export * from './driver/index.js';
export * from './runner/index.js';

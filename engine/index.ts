export * from './config/index.js';
export * from './build/index.js';
export * from './plan/index.js';
export * from './targets/index.js';
export * from './driver/index.js';
export * from './identity/index.js';
export * from './runner/index.js';
export * from './bisect/index.js';

export * from './errors.js';
export * from './paths.js';
export * from './native-build.js';
export * from './model.js';

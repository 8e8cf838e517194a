export * from './errors.js';
export * from './paths.js';
export * from './native-build.js';
export * from './model.js';
export * from './format/index.js';
export * from './generators/index.js';
export * from './info/index.js';

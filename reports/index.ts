export * from './identity/index.js';
export * from './store/index.js';
export * from './stats/index.js';
export * from './compare/index.js';
export * from './render/index.js';
export * from './select/index.js';

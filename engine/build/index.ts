export * from './flags.js';
export * from './revision.js';
export { buildDirKind } from './incremental.js';
export * from './source.js';
export * from './build.js';

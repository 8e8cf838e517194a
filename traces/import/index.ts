export { ZIP_MAX_BYTES } from './zip.js';
export * from './import.js';
export * from './aosp.js';

export { PointerTracker, type ConversionCounts } from './pointers.js';
export * from './record.js';

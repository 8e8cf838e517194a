export * from './spec.js';
export { TraceWriter, encodeHeader } from './writer.js';
export { openTrace, readEvents, validateTrace, traceChecksum, type TraceReader } from './reader.js';
export { LiveSet } from './live.js';

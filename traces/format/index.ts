export * from './spec.js';
export { encodeHeader, TraceWriter, type WriterOptions } from './writer.js';
export { claimedFooter, openTrace, readEvents, validateTrace, type TraceReader } from './reader.js';
export { LiveSet, LiveTable } from './live.js';
export { measureValue, ValueStream } from './stream.js';

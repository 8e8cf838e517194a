export { Prng } from './prng.js';
export * from './generators.js';

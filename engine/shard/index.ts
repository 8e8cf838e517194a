export * from './shard.js';

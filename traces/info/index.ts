export * from './info.js';

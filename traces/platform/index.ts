/**
 * The platform every room stands on: errors that become one-line messages
 * and exit codes, cleanup on exit and interrupt, the project's paths and
 * caches, and C compiled on first use. Nothing here knows about traces; it
 * sits under traces/ because that is the lowest layer (cli → engine →
 * reports → traces), where every room can import it.
 */
export * from './errors.js';
export * from './cleanup.js';
export * from './paths.js';
export * from './native-build.js';

import type { FlagDef } from './flags.js';

/** An allocator built from source: a repository (or plain folder), a build command template and the artifact it makes. */
export interface SourceTarget {
  name: string;
  /** A git repository, or a plain folder (its revision is then a hash of its files). */
  repo: string;
  /** Hash `repo` as a plain folder even when it lies inside a git checkout. */
  folder?: boolean;
  /** Template: {cflags} {make} {cmake} {configure} {jobs}, and {NAME} for any compile-time flag's value. */
  build: string;
  /**
   * The shared library the build makes, relative to the source root: a
   * template over flag values, or candidates tried in order (the first that
   * exists is taken), e.g. [out/libmimalloc-secure.so, out/libmimalloc.so].
   */
  artifact: string | string[];
  flags: Record<string, FlagDef>;
  /** Runtime environment always set for this target. */
  env?: Record<string, string>;
}

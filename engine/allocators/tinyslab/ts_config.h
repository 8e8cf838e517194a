/* tinyslab build flags. Each is a -DNAME=VALUE; these are the defaults. */
#ifndef TS_CONFIG_H
#define TS_CONFIG_H

/* 1: each thread has its own heap (current slab per size class, lock-free
 * local frees); 0: one global heap behind one lock. */
#ifndef TS_TLS_CACHE
#define TS_TLS_CACHE 1
#endif

/* Shared slab pool. 0: none, every slab is its own 64 KiB mmap, unmapped
 * when empty; 1: slabs carved from superslabs up to the soft cap, kept in
 * the pool for reuse when they empty; past the cap a slower fallback: a
 * page-sized slab mapped on its own and unmapped as soon as it empties;
 * 2: strict, as 1 but an empty carved slab also gives its pages back
 * (madvise) while it waits in the pool. */
#ifndef TS_POOL
#define TS_POOL 1
#endif

/* Soft cap of the shared pool, in 64 KiB slabs carved from superslabs. */
#ifndef TS_SOFT_CAP
#define TS_SOFT_CAP 32
#endif

/* 1: hot helpers inlined; 0: the same helpers out of line (noinline). */
#ifndef TS_INLINE
#define TS_INLINE 1
#endif

/* 1: a debug build: ts_assert checks the invariants tinyslab.h states and
 * aborts with the failed condition on stderr; 0: the checks compile to
 * nothing (the release build's code is the same as without them). */
#ifndef TS_DEBUG
#define TS_DEBUG 0
#endif

/* 1: count events and write them at exit to $ALLOCREPLAY_STATS_FILE. */
#ifndef TS_STATS
#define TS_STATS 1
#endif

#endif

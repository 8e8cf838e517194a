/* tinyslab internals: blocks of a size class are carved from 64 KiB slabs;
 * slabs come from 2 MiB superslabs through a shared pool with a soft cap;
 * each thread allocates from its own heap; large blocks are mmapped alone.
 *
 * Invariant: for every block pointer p we hand out, the header of the slab
 * (or large mapping) holding it is at (p - 1) rounded down to 64 KiB, and
 * that 64 KiB unit is marked in the unit map (segmap.c). So a free needs one
 * bit of lookup, never reads a header at an address we did not map, and data
 * never starts at a slab's first byte.
 *
 * Foreign pointers (not from us: another allocator's block, a static or
 * stack address, a large block already freed) are left alone: free() ignores
 * them (counted as foreign_frees with TS_STATS), malloc_usable_size() says 0,
 * realloc() fails with EINVAL and keeps them. A preloaded allocator can be
 * handed such pointers by code that allocated before it was in place, so
 * leaking is the safe answer; aborting would turn that into a crash.
 *
 * Sizes are combined with checked arithmetic: a request that cannot be
 * represented (beyond PTRDIFF_MAX once headers and alignment are added)
 * fails with ENOMEM instead of wrapping.
 */
#ifndef TINYSLAB_H
#define TINYSLAB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ts_config.h"

#if TS_INLINE
#define TS_HOT static inline __attribute__((always_inline))
#else
#define TS_HOT static __attribute__((noinline, unused)) /* unused: not every file calls every helper */
#endif

/* ts_assert(cond): with TS_DEBUG=1 a false `cond` ends the process with
 * "tinyslab: file:line: invariant failed: cond" on stderr; without it,
 * nothing. The condition is never evaluated in a release build, so it may
 * cost anything. */
#if TS_DEBUG
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void ts_debug_put(const char *s) { (void)!write(2, s, strlen(s)); }

/* Written without stdio or malloc: we are malloc, and the heap may be what
 * is broken. One copy per file (it is static): debug builds only. */
__attribute__((noreturn, cold, noinline, unused)) static void ts_assert_fail(const char *cond, const char *file, int line) {
  char digits[12], *d = digits + sizeof digits;
  *--d = '\0';
  unsigned v = line > 0 ? (unsigned)line : 0;
  do *--d = (char)('0' + v % 10);
  while (v /= 10);
  ts_debug_put("tinyslab: ");
  ts_debug_put(file);
  ts_debug_put(":");
  ts_debug_put(d);
  ts_debug_put(": invariant failed: ");
  ts_debug_put(cond);
  ts_debug_put("\n");
  abort();
}
#define ts_assert(cond) (__builtin_expect(!(cond), 0) ? ts_assert_fail(#cond, __FILE__, __LINE__) : (void)0)
#else
#define ts_assert(cond) ((void)0)
#endif

#define TS_SLAB_SIZE ((size_t)64 * 1024)
#define TS_SUPERSLAB_SIZE ((size_t)2 * 1024 * 1024)
#define TS_DATA_OFFSET 256 /* first block of a slab; ≥ header size */
#define TS_MAX_SMALL 8192
#define TS_NCLASSES 48
#define TS_MAGIC 0x7451AB5u

enum ts_kind { TS_SMALL = 1, TS_LARGE = 2 };

struct ts_heap;

struct ts_slab {
  uint32_t magic;
  uint16_t kind;
  uint16_t cls;
  uint32_t block;     /* block size, bytes */
  uint32_t used;      /* blocks out, as the owner knows it */
  uint8_t fallback;   /* mapped on its own, past the soft cap */
  void *free;         /* owner-only free list */
  _Atomic(void *) remote; /* frees from other threads, collected by the owner */
  char *bump, *end;   /* never-used space */
  struct ts_heap *owner;
  struct ts_slab *prev, *next; /* the owner's list for this class */
  void *map_base;     /* large: the mapping to unmap */
  size_t map_size;
};

_Static_assert(sizeof(struct ts_slab) <= TS_DATA_OFFSET, "slab header fits before the data");

struct ts_heap {
  struct ts_slab *cur[TS_NCLASSES];  /* allocation slab per class */
  struct ts_slab *list[TS_NCLASSES]; /* other slabs this heap owns */
  struct ts_heap *next_abandoned;
};

/* ---- hot helpers (inlined or not, per TS_INLINE) ---- */

/* Classes: 16..128 by 16, then 4 per power of two up to 8192. */
TS_HOT unsigned ts_size_class(size_t n) {
  if (n <= 128) return n ? (unsigned)((n + 15) >> 4) - 1 : 0;
  unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1)); /* 2^lg < n <= 2^(lg+1) */
  unsigned step = lg - 2;                                                      /* quarter of 2^lg */
  unsigned q = (unsigned)((n - 1 - ((size_t)1 << lg)) >> step);               /* 0..3 */
  return 8 + (lg - 7) * 4 + q;
}

TS_HOT size_t ts_class_size(unsigned c) {
  if (c < 8) return (size_t)(c + 1) * 16;
  unsigned lg = 7 + (c - 8) / 4, q = (c - 8) % 4;
  return ((size_t)1 << lg) + ((size_t)(q + 1) << (lg - 2));
}

TS_HOT struct ts_slab *ts_slab_of(const void *p) {
  return (struct ts_slab *)(((uintptr_t)p - 1) & ~(uintptr_t)(TS_SLAB_SIZE - 1));
}

/* ---- the unit map (segmap.c) ----
 * One byte per 64 KiB unit of the 47-bit user address space, set where a
 * slab or a large block's header starts. Two levels, like a page table: the
 * top array (static, zero until used) has a leaf per 2 GiB span, each a
 * 32 KiB byte map mapped on first use. */
#define TS_ADDRESS_BITS 47
#define TS_SPAN_SHIFT 31
#define TS_UNIT_SHIFT 16
#define TS_UNITS_PER_SPAN ((size_t)1 << (TS_SPAN_SHIFT - TS_UNIT_SHIFT))
/* Hidden: read directly, not through the GOT, on every free. */
extern _Atomic(_Atomic uint8_t *) ts_unit_map[(size_t)1 << (TS_ADDRESS_BITS - TS_SPAN_SHIFT)] __attribute__((visibility("hidden")));

/* Is `s` (a 64 KiB-aligned address) a slab or large header we made? */
TS_HOT int ts_is_ours(const struct ts_slab *s) {
  uintptr_t a = (uintptr_t)s;
  if (a >> TS_ADDRESS_BITS) return 0;
  _Atomic uint8_t *leaf = atomic_load_explicit(&ts_unit_map[a >> TS_SPAN_SHIFT], memory_order_acquire);
  return leaf && atomic_load_explicit(&leaf[(a >> TS_UNIT_SHIFT) & (TS_UNITS_PER_SPAN - 1)], memory_order_relaxed);
}

/* Marks (1) or unmarks (0) the unit at `s`; marking fails (0) only when a
 * leaf cannot be mapped. */
int ts_unit_mark(const void *s, int on);

#if TS_DEBUG
/* Is `p` the start of a block of small slab `s`: in the part handed out so
 * far, on the block grid? (Debug builds only: it reads the header.) */
static inline int ts_debug_is_block(const struct ts_slab *s, const void *p) {
  uintptr_t a = (uintptr_t)p, first = (uintptr_t)s + TS_DATA_OFFSET;
  return s->magic == TS_MAGIC && s->kind == TS_SMALL && a >= first && a < (uintptr_t)s->bump && (a - first) % s->block == 0;
}

/* Blocks a small slab can hold. */
static inline size_t ts_debug_capacity(const struct ts_slab *s) { return (size_t)(s->end - ((const char *)s + TS_DATA_OFFSET)) / s->block; }
#endif

TS_HOT void *ts_freelist_pop(struct ts_slab *s) {
  void *p = s->free;
  if (p) {
    ts_assert(ts_debug_is_block(s, p));
    s->free = *(void **)p;
    s->used++;
    ts_assert(s->used <= ts_debug_capacity(s));
  }
  return p;
}

/* A block goes back on its slab's free list: never more than were out (a
 * double free of a slab's last block trips this in a debug build). */
TS_HOT void ts_freelist_push(struct ts_slab *s, void *p) {
  ts_assert(s->used > 0 && ts_debug_is_block(s, p));
  *(void **)p = s->free;
  s->free = p;
  s->used--;
}

/* ---- slab.c: the only code that maps or unmaps; it keeps the unit map ---- */
/* A slab of class `cls` from its own mmap: 64 KiB-aligned, `size` bytes
 * (a multiple of the page size, at most TS_SLAB_SIZE), marked fallback. */
struct ts_slab *ts_slab_map_alone(unsigned cls, size_t size);
void ts_slab_unmap(struct ts_slab *s);
void *ts_superslab_carve(void);                  /* next 64 KiB of the current superslab */
void ts_slab_init(struct ts_slab *s, unsigned cls);
void *ts_large_alloc(size_t size, size_t align, int *fresh);
void ts_large_free(struct ts_slab *s);

/* ---- pool.c ---- */
struct ts_slab *ts_pool_acquire(unsigned cls);
void ts_pool_release(struct ts_slab *s);

/* ---- heap.c ---- */
struct ts_heap *ts_heap_get(void);
/* The calling thread's heap, NULL before its first allocation: a load on the
 * path of every request, so it is inline here rather than a call into heap.c. */
#if TS_TLS_CACHE
extern __thread struct ts_heap *ts_tl_heap __attribute__((tls_model("initial-exec"), visibility("hidden")));
static inline struct ts_heap *ts_heap_current(void) { return ts_tl_heap; }
#else
extern struct ts_heap ts_global_heap __attribute__((visibility("hidden")));
static inline struct ts_heap *ts_heap_current(void) { return &ts_global_heap; }
#endif
void *ts_heap_alloc(struct ts_heap *h, unsigned cls); /* a block of class cls, or NULL when out of memory */
void *ts_heap_alloc_slow(struct ts_heap *h, unsigned cls);
void ts_heap_free_local(struct ts_heap *h, struct ts_slab *s, void *p);

/* ---- stats.c ---- */
#if TS_STATS
extern _Atomic uint64_t ts_stat_mallocs, ts_stat_frees, ts_stat_cap_fallbacks, ts_stat_slabs_carved, ts_stat_slabs_alone,
    ts_stat_remote_frees, ts_stat_large, ts_stat_pool_reuses, ts_stat_foreign_frees;
#define TS_COUNT(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)
#else
#define TS_COUNT(c) ((void)0)
#endif

#endif

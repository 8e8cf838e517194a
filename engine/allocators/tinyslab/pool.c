/* The shared slab pool and its soft cap (TS_POOL, TS_SOFT_CAP). Up to
 * the cap, slabs are carved from superslabs and cycle through the pool.
 * Past it the pool keeps no more memory: each slab it must still hand out
 * is a fallback, a mapping of its own of one page (or what one block
 * needs), unmapped as soon as it empties. So a working set that fits the
 * cap costs no system calls, and one past it pays an mmap and a munmap for
 * every page of blocks that comes and goes. */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "tinyslab.h"

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ts_slab *pool_free; /* empty slabs ready for any class */
static unsigned carved;           /* slabs carved from superslabs so far */

struct ts_slab *ts_pool_acquire(unsigned cls) {
#if TS_POOL == 0
  return ts_slab_map_alone(cls, TS_SLAB_SIZE);
#else
  struct ts_slab *s = NULL;
  pthread_mutex_lock(&pool_lock);
  if (pool_free) {
    s = pool_free;
    pool_free = s->next;
    TS_COUNT(ts_stat_pool_reuses);
    ts_assert(s->owner == NULL && !s->fallback);
  } else if (carved < TS_SOFT_CAP) {
    s = ts_superslab_carve();
    if (s) carved++;
  }
  pthread_mutex_unlock(&pool_lock);
  if (s) {
    ts_slab_init(s, cls);
    s->fallback = 0;
    return s;
  }
  /* Past the soft cap: the fallback path, a page (or what one block needs) mapped on its own. */
  TS_COUNT(ts_stat_cap_fallbacks);
  return ts_slab_map_alone(cls, (TS_DATA_OFFSET + ts_class_size(cls) + 4095) & ~(size_t)4095);
#endif
}

/* Only an empty slab comes back: no block of it is out, none is on its way back. */
void ts_pool_release(struct ts_slab *s) {
  ts_assert(s->kind == TS_SMALL && s->used == 0 && !atomic_load_explicit(&s->remote, memory_order_relaxed));
#if TS_POOL == 0
  ts_slab_unmap(s);
#else
  if (s->fallback) { /* past the cap: nothing is kept */
    ts_slab_unmap(s);
    return;
  }
#if TS_POOL == 2
  /* Strict: an empty carved slab gives its pages back (all but the header's) while it waits. */
  madvise((char *)s + 4096, TS_SLAB_SIZE - 4096, MADV_DONTNEED);
#endif
  s->owner = NULL;
  pthread_mutex_lock(&pool_lock);
  s->next = pool_free;
  pool_free = s;
  pthread_mutex_unlock(&pool_lock);
#endif
}

/* The shared slab pool and its soft cap (TS_POOL, TS_SOFT_CAP). */
#define _GNU_SOURCE
#include "tinyslab.h"

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ts_slab *pool_free; /* empty slabs ready for any class */
static unsigned carved;           /* slabs carved from superslabs so far */

struct ts_slab *ts_pool_acquire(unsigned cls) {
  struct ts_slab *s = NULL;
#if TS_POOL == 0
  s = ts_slab_map_alone();
  if (s) ts_slab_init(s, cls), s->fallback = 1;
  return s;
#else
  pthread_mutex_lock(&pool_lock);
  if (pool_free) {
    s = pool_free;
    pool_free = s->next;
    TS_COUNT(ts_stat_pool_reuses);
  } else if (carved < TS_SOFT_CAP) {
    s = ts_superslab_carve();
    if (s) carved++;
  }
  pthread_mutex_unlock(&pool_lock);
  if (s) {
    uint8_t fb = s->magic == TS_MAGIC ? s->fallback : 0;
    ts_slab_init(s, cls);
    s->fallback = fb;
    return s;
  }
  /* Past the soft cap: the fallback path, a slab mapped on its own. */
  TS_COUNT(ts_stat_cap_fallbacks);
  s = ts_slab_map_alone();
  if (s) ts_slab_init(s, cls), s->fallback = 1;
  return s;
#endif
}

void ts_pool_release(struct ts_slab *s) {
#if TS_POOL == 0
  ts_slab_unmap(s);
#else
#if TS_POOL == 2
  /* Strict: memory past the cap goes back to the system at once. */
  if (s->fallback) {
    ts_slab_unmap(s);
    return;
  }
#endif
  s->owner = NULL;
  pthread_mutex_lock(&pool_lock);
  s->next = pool_free;
  pool_free = s;
  pthread_mutex_unlock(&pool_lock);
#endif
}

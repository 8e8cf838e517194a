/* Thread heaps: each thread allocates from its own heap (TS_TLS_CACHE=1) or
 * all share one behind a lock (TS_TLS_CACHE=0). A heap owns slabs; only its
 * thread touches their free lists, other threads free through `remote`. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>

#include "tinyslab.h"

#if TS_TLS_CACHE
static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ts_heap *abandoned; /* heaps of exited threads, for adoption */
__thread struct ts_heap *ts_tl_heap __attribute__((tls_model("initial-exec")));
static pthread_key_t heap_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* Thread exit: the heap (and its slabs) waits for another thread to adopt
 * it; blocks other threads free meanwhile collect on its slabs' remote lists. */
static void heap_abandon(void *arg) {
  struct ts_heap *h = arg;
  ts_tl_heap = NULL;
  pthread_mutex_lock(&heaps_lock);
  h->next_abandoned = abandoned;
  abandoned = h;
  pthread_mutex_unlock(&heaps_lock);
}

static void make_key(void) { pthread_key_create(&heap_key, heap_abandon); }
#else
struct ts_heap ts_global_heap;
#endif

struct ts_heap *ts_heap_get(void) {
#if TS_TLS_CACHE
  if (ts_tl_heap) return ts_tl_heap;
  pthread_once(&key_once, make_key);
  pthread_mutex_lock(&heaps_lock);
  struct ts_heap *h = abandoned;
  if (h) abandoned = h->next_abandoned;
  pthread_mutex_unlock(&heaps_lock);
  if (!h) {
    h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) return NULL;
  }
  ts_tl_heap = h;
  pthread_setspecific(heap_key, h);
  return h;
#else
  return &ts_global_heap;
#endif
}

static void list_push(struct ts_heap *h, struct ts_slab *s) {
  unsigned c = s->cls;
  ts_assert(s->owner == h && s->prev == NULL && h->list[c] != s);
  s->prev = NULL;
  s->next = h->list[c];
  if (s->next) s->next->prev = s;
  h->list[c] = s;
}

static void list_remove(struct ts_heap *h, struct ts_slab *s) {
  ts_assert(s->owner == h && (s->prev ? s->prev->next == s : h->list[s->cls] == s));
  if (s->prev) s->prev->next = s->next;
  else h->list[s->cls] = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = NULL;
}

/* Moves blocks other threads freed into the owner's free list. */
static void collect_remote(struct ts_slab *s) {
  void *p = atomic_exchange_explicit(&s->remote, NULL, memory_order_acquire);
  while (p) {
    void *next = *(void **)p;
    ts_freelist_push(s, p);
    p = next;
  }
}

/* The next block of `cls`: from the current slab's free list, else the slow path. */
void *ts_heap_alloc(struct ts_heap *h, unsigned cls) {
  struct ts_slab *s = h->cur[cls];
  void *p = s ? ts_freelist_pop(s) : NULL;
  return p ? p : ts_heap_alloc_slow(h, cls);
}

/* The current slab of `cls` has no free block: find one, or take a slab
 * from the pool, then allocate from it. */
void *ts_heap_alloc_slow(struct ts_heap *h, unsigned cls) {
  struct ts_slab *s = h->cur[cls];
  ts_assert(!s || (s->owner == h && s->cls == cls && s->block == ts_class_size(cls)));
  if (s) {
    if (s->bump + s->block <= s->end) {
      void *p = s->bump;
      s->bump += s->block;
      s->used++;
      return p;
    }
    collect_remote(s);
    void *p = ts_freelist_pop(s);
    if (p) return p;
    list_push(h, s); /* full: park it */
    h->cur[cls] = NULL;
  }
  for (s = h->list[cls]; s; s = s->next) {
    if (atomic_load_explicit(&s->remote, memory_order_relaxed)) collect_remote(s);
    if (s->free) break;
  }
  if (s) {
    list_remove(h, s);
  } else {
    s = ts_pool_acquire(cls);
    if (!s) return NULL;
    /* A slab from the pool is empty and nobody's. */
    ts_assert(s->used == 0 && !s->free && !atomic_load_explicit(&s->remote, memory_order_relaxed) && s->owner == NULL);
    s->owner = h;
  }
  h->cur[cls] = s;
  void *p = ts_freelist_pop(s);
  if (!p && s->bump + s->block <= s->end) {
    p = s->bump;
    s->bump += s->block;
    s->used++;
  }
  return p;
}

/* A free by the owner; an emptied slab that is not current goes back to the pool. */
void ts_heap_free_local(struct ts_heap *h, struct ts_slab *s, void *p) {
  ts_assert(s->owner == h); /* only the owner touches the free list */
  ts_freelist_push(s, p);
  if (s->used == 0 && h->cur[s->cls] != s && !atomic_load_explicit(&s->remote, memory_order_acquire)) {
    list_remove(h, s);
    ts_pool_release(s);
  }
}

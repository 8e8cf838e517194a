/* The malloc family: small requests go to the calling thread's heap, large
 * ones to their own mapping. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tinyslab.h"

#if !TS_TLS_CACHE
static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
#define HEAP_LOCK() pthread_mutex_lock(&global_lock)
#define HEAP_UNLOCK() pthread_mutex_unlock(&global_lock)
#else
#define HEAP_LOCK() ((void)0)
#define HEAP_UNLOCK() ((void)0)
#endif

TS_HOT void *ts_alloc_small(size_t n) {
  unsigned cls = ts_size_class(n);
  ts_assert(cls < TS_NCLASSES && ts_class_size(cls) >= n);
  HEAP_LOCK();
  struct ts_heap *h = ts_heap_get();
  void *p = h ? ts_heap_alloc(h, cls) : NULL;
  HEAP_UNLOCK();
  return p;
}

static void *ts_alloc(size_t n, size_t align, int *fresh) {
  TS_COUNT(ts_stat_mallocs);
  *fresh = 0;
  if (align <= 16 && n <= TS_MAX_SMALL) return ts_alloc_small(n);
  if (align <= TS_DATA_OFFSET && n <= TS_MAX_SMALL) {
    /* A class whose size is a multiple of `align` keeps blocks aligned:
     * the data starts TS_DATA_OFFSET (a multiple of align) into the slab. */
    size_t m = (n + align - 1) & ~(align - 1);
    while (m <= TS_MAX_SMALL && ts_class_size(ts_size_class(m)) % align) m += align;
    if (m <= TS_MAX_SMALL) return ts_alloc_small(m);
  }
  return ts_large_alloc(n, align < 16 ? 16 : align, fresh);
}

/* The header of a block we handed out, or NULL for a foreign pointer (see
 * tinyslab.h): nothing is read at an address the unit map does not vouch for. */
TS_HOT struct ts_slab *ts_owner_of(const void *p) {
  struct ts_slab *s = ts_slab_of(p);
  if (__builtin_expect(!ts_is_ours(s), 0)) return NULL;
  if (s->kind == TS_LARGE) return p == s->bump ? s : NULL;
  /* A small block never starts inside its slab's header. */
  return (uintptr_t)p - (uintptr_t)s >= TS_DATA_OFFSET ? s : NULL;
}

#if TS_DEBUG
/* What every block handed out satisfies (tinyslab.h): its header is where
 * ts_slab_of says and is marked, the block is aligned and holds `n` bytes. */
static int ts_debug_handed_out(const void *p, size_t n, size_t align) {
  struct ts_slab *s = ts_owner_of(p);
  if (!s || s->magic != TS_MAGIC || (uintptr_t)p % align) return 0;
  if (s->kind == TS_LARGE) return (size_t)(s->end - (char *)p) >= n;
  return ts_debug_is_block(s, p) && s->block >= n && (char *)p + s->block <= s->end;
}
#endif

static void ts_free(void *p) {
  if (!p) return;
  TS_COUNT(ts_stat_frees);
  struct ts_slab *s = ts_owner_of(p);
  if (__builtin_expect(!s, 0)) {
    TS_COUNT(ts_stat_foreign_frees); /* not ours: leak rather than corrupt */
    return;
  }
  if (s->kind == TS_LARGE) {
    ts_large_free(s);
    return;
  }
  ts_assert(ts_debug_is_block(s, p));
  HEAP_LOCK();
  struct ts_heap *h = ts_heap_current();
  if (h && s->owner == h) {
    ts_heap_free_local(h, s, p);
    HEAP_UNLOCK();
    return;
  }
  HEAP_UNLOCK();
  TS_COUNT(ts_stat_remote_frees);
  void *head = atomic_load_explicit(&s->remote, memory_order_relaxed);
  do {
    *(void **)p = head;
  } while (!atomic_compare_exchange_weak_explicit(&s->remote, &head, p, memory_order_release, memory_order_relaxed));
}

/* 0 for a foreign pointer. */
static size_t ts_usable(const void *p) {
  struct ts_slab *s = ts_owner_of(p);
  if (!s) return 0;
  if (s->kind == TS_LARGE) return (size_t)(s->end - (char *)p);
  return s->block;
}

void *malloc(size_t n) {
  int fresh;
  void *p = ts_alloc(n, 16, &fresh);
  if (!p) errno = ENOMEM;
  ts_assert(!p || ts_debug_handed_out(p, n, 16));
  return p;
}

void free(void *p) { ts_free(p); }

void cfree(void *p) { ts_free(p); }

void *calloc(size_t nmemb, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(nmemb, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  int fresh;
  void *p = ts_alloc(n, 16, &fresh);
  ts_assert(!p || ts_debug_handed_out(p, n, 16));
  if (!p) errno = ENOMEM;
  else if (!fresh) memset(p, 0, n); /* fresh mappings are already zero */
  return p;
}

void *realloc(void *old, size_t n) {
  if (!old) return malloc(n);
  if (n == 0) {
    ts_free(old);
    return NULL;
  }
  size_t have = ts_usable(old);
  if (!have) {
    errno = EINVAL; /* foreign: its size is unknown, so it cannot be moved */
    return NULL;
  }
  if (n <= have && (n > have / 2 || have <= 16)) return old;
  void *p = malloc(n);
  if (!p) return NULL;
  memcpy(p, old, n < have ? n : have);
  ts_free(old);
  return p;
}

void *reallocarray(void *old, size_t nmemb, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(nmemb, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(old, n);
}

static int bad_align(size_t a) { return a == 0 || (a & (a - 1)) != 0; }

void *memalign(size_t align, size_t n) {
  if (bad_align(align)) {
    errno = EINVAL;
    return NULL;
  }
  int fresh;
  void *p = ts_alloc(n, align, &fresh);
  if (!p) errno = ENOMEM;
  ts_assert(!p || ts_debug_handed_out(p, n, align));
  return p;
}

int posix_memalign(void **out, size_t align, size_t n) {
  if (bad_align(align) || align % sizeof(void *)) return EINVAL;
  int fresh;
  void *p = ts_alloc(n, align, &fresh);
  if (!p) return ENOMEM;
  ts_assert(ts_debug_handed_out(p, n, align));
  *out = p;
  return 0;
}

void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }

void *valloc(size_t n) { return memalign((size_t)sysconf(_SC_PAGESIZE), n); }

void *pvalloc(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
  if (__builtin_add_overflow(n, page - 1, &rounded)) {
    errno = ENOMEM;
    return NULL;
  }
  return memalign(page, rounded & ~(page - 1));
}

size_t malloc_usable_size(void *p) { return p ? ts_usable(p) : 0; }

/* Serial mode: every op in recorded global order on the calling thread.
 * Fully deterministic, so it is the mode for exact instruction counts. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "driver.h"

struct series g_series;

void series_reserve(unsigned cap) {
  if (!cap) return;
  void *m = mmap(NULL, (size_t)cap * 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (m == MAP_FAILED) die("cannot map the RSS series", strerror(errno));
  g_series.op = m;
  g_series.rss = g_series.op + cap;
  g_series.cap = cap;
}

/* Checks a fresh block and touches it as asked. `full` adds the costly
 * malloc_usable_size check (only in an untimed checking repetition). */
static inline void after_alloc(const struct ar_op *o, void *p, int full) {
  uint64_t bytes = op_bytes(o);
  if (!p) {
    if (bytes || o->op != AR_REALLOC) chk.nulls++;
    return;
  }
  size_t align = (o->op >= AR_MEMALIGN && o->op <= AR_ALIGNED_ALLOC) ? (size_t)o->arg
               : (o->op == AR_VALLOC || o->op == AR_PVALLOC) ? 4096 : expected_align((size_t)bytes);
  if (((uintptr_t)p & (align - 1)) != 0) chk.misaligned++;
  if (full && malloc_usable_size(p) < bytes) chk.short_usable++;
  if (touch == TOUCH_FIRST && bytes) *(volatile char *)p = 1;
  else if (touch == TOUCH_ALL && bytes) memset(p, 1, bytes);
}

/* The general path: every op kind, with the checks. */
static inline void serial_op(const struct ar_op *o, int full) {
  if (o->op == AR_FREE) {
    free(slots[o->obj]);
    slots[o->obj] = NULL;
  } else if (o->op != AR_THREAD_EXIT) {
    void *old = NULL;
    if (o->op == AR_REALLOC) {
      old = slots[o->arg];
      slots[o->arg] = NULL;
    }
    void *p = alloc_op(o, old);
    after_alloc(o, p, full);
    if (o->obj) slots[o->obj] = p;
    else if (p) free(p); /* recorded as NULL: do not keep it */
  }
}

/* Ops [from, to): malloc and free, nearly all of any trace, take a path as
 * short as a hand-written loop's; the alignment and usable-size checks run
 * in the untimed checking repetition (`full`). */
static __attribute__((always_inline)) inline void serial_range(uint64_t from, uint64_t to, int full, enum touch_mode tm) {
  const struct ar_op *ops = P.ops;
  for (uint64_t i = from; i < to; i++) {
    const struct ar_op *o = &ops[i];
    tl_op = i;
    assert_op_in_bounds(o);
    if (o->op == AR_FREE) {
      /* Ids are never reused, so the slot need not be cleared: only the
       * objects the trace leaves live are freed after the repetition. */
      free(slots[o->obj]);
    } else if (o->op == AR_MALLOC && !full) {
      void *p = malloc(o->size);
      if (__builtin_expect(p == NULL, 0)) chk.nulls++;
      else if (tm == TOUCH_FIRST && o->size) *(volatile char *)p = 1;
      else if (tm == TOUCH_ALL) memset(p, 1, o->size);
      slots[o->obj] = p;
    } else {
      serial_op(o, full);
    }
  }
}

static __attribute__((always_inline)) inline void run_with(int full, enum touch_mode tm, uint64_t sample_every) {
  uint64_t n = P.nops;
  if (!sample_every || !g_series.cap) {
    serial_range(0, n, full, tm);
    return;
  }
  /* RSS is sampled between segments, after ops every, 2·every, … — the
   * points engine/plan computed the live bytes for. */
  for (uint64_t from = 0; from < n;) {
    uint64_t to = from + sample_every + (from == 0);
    if (to > n) to = n;
    serial_range(from, to, full, tm);
    if (to < n && g_series.n < g_series.cap) {
      g_series.op[g_series.n] = to - 1;
      g_series.rss[g_series.n++] = rss_kib();
    }
    from = to;
  }
}

void serial_run(int full, uint64_t sample_every) {
  if (full) run_with(1, touch, sample_every);
  else if (touch == TOUCH_NONE) run_with(0, TOUCH_NONE, sample_every);
  else if (touch == TOUCH_FIRST) run_with(0, TOUCH_FIRST, sample_every);
  else run_with(0, TOUCH_ALL, sample_every);
}

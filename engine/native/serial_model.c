/* Serial mode with the program modelled: pace=recorded (the program's work
 * between calls, pace.h) and touch=program (blocks written as a program
 * writes them). Its own file, so the plain loops of serial.c compile exactly
 * as before and their instruction counts stay. Same order, same checks. */
#define _GNU_SOURCE
#include "driver.h"

/* Checks a fresh block and touches it as asked (`full`: the costly check
 * too, in the untimed checking repetition). */
static __attribute__((always_inline)) inline void model_after_alloc(const struct ar_op *o, void *p, int full, enum touch_mode tm) {
  uint64_t bytes = op_bytes(o);
  if (!p) {
    if (bytes || o->op != AR_REALLOC) chk.nulls++;
    return;
  }
  size_t align = (o->op >= AR_MEMALIGN && o->op <= AR_ALIGNED_ALLOC) ? (size_t)o->arg
               : (o->op == AR_VALLOC || o->op == AR_PVALLOC) ? 4096 : expected_align((size_t)bytes);
  if (((uintptr_t)p & (align - 1)) != 0) chk.misaligned++;
  if (full && malloc_usable_size(p) < bytes) chk.short_usable++;
  if (tm == TOUCH_FIRST && bytes) *(volatile char *)p = 1;
  else if (tm == TOUCH_ALL && bytes) memset(p, 1, bytes);
  else if (tm == TOUCH_PROGRAM) touch_program_new(p, bytes);
}

/* One op. A block leaves the view before the allocator sees it end, and a
 * new one joins after the call, so the view only ever holds live blocks. */
static __attribute__((always_inline)) inline void model_op(const struct ar_op *o, int full, enum touch_mode tm, int pace) {
  struct pace_view *v = &pace_views[0];
  if (o->op == AR_FREE) {
    if (pace) pace_remove(v, o->obj);
    if (tm == TOUCH_PROGRAM) touch_program_end(slots[o->obj]);
    free(slots[o->obj]);
    slots[o->obj] = NULL;
  } else if (o->op != AR_THREAD_EXIT) {
    void *old = NULL;
    if (o->op == AR_REALLOC) {
      if (pace) pace_remove(v, (uint32_t)o->arg);
      old = slots[o->arg];
      slots[o->arg] = NULL;
    }
    void *p = alloc_op(o, old);
    model_after_alloc(o, p, full, tm);
    if (o->obj) {
      slots[o->obj] = p;
      if (pace) pace_add(v, o->obj, p, op_bytes(o));
    } else if (p) {
      free(p); /* recorded as NULL: do not keep it */
    }
  }
}

static __attribute__((always_inline)) inline void model_range(uint64_t from, uint64_t to, int full, enum touch_mode tm, int pace) {
  struct pace_view *v = &pace_views[0];
  for (uint64_t i = from; i < to; i++) {
    tl_op = i;
    if (pace) pace_work(v, P.pace_ns[i]);
    model_op(&P.ops[i], full, tm, pace);
  }
}

static __attribute__((always_inline)) inline void model_with(int full, enum touch_mode tm, int pace, uint64_t sample_every) {
  uint64_t n = P.nops;
  if (!sample_every || !g_series.cap) {
    model_range(0, n, full, tm, pace);
    return;
  }
  /* RSS sampled at the same points as serial.c's loops. */
  for (uint64_t from = 0; from < n;) {
    uint64_t to = from + sample_every + (from == 0);
    if (to > n) to = n;
    model_range(from, to, full, tm, pace);
    if (to < n && g_series.n < g_series.cap) {
      g_series.op[g_series.n] = to - 1;
      g_series.rss[g_series.n++] = rss_kib();
    }
    from = to;
  }
}

static __attribute__((always_inline)) inline void model_paced(int full, enum touch_mode tm, int pace, uint64_t sample_every) {
  if (pace) model_with(full, tm, 1, sample_every);
  else model_with(full, tm, 0, sample_every);
}

/* One loop per (touch, pace), constants for both. */
void serial_run_model(int full, uint64_t sample_every) {
  int pace = paced();
  if (full) model_paced(1, touch, pace, sample_every);
  else if (touch == TOUCH_NONE) model_paced(0, TOUCH_NONE, pace, sample_every);
  else if (touch == TOUCH_FIRST) model_paced(0, TOUCH_FIRST, pace, sample_every);
  else if (touch == TOUCH_ALL) model_paced(0, TOUCH_ALL, pace, sample_every);
  else model_paced(0, TOUCH_PROGRAM, pace, sample_every);
}

/* Threads mode: one worker per recorded thread, each running its thread's
 * ops in recorded order. An op on an object another thread makes waits
 * until that object exists (state table), so cross-thread frees are exact.
 *
 * Workers are created before the clock starts and wait on `go`; they count
 * themselves in `ready` once their signal stack is installed, and the clock
 * starts only when all are ready. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>

#include "driver.h"

/* Per object: 0 not yet made, 1 live, 2 freed, 3 made NULL. */
static _Atomic uint8_t *state;
static pthread_t *tids;
static atomic_int go, ready;
static atomic_int abandon; /* set when the run is called off before it starts */
atomic_uint_fast64_t t_double_freed, t_nulls;

void threads_reserve(void) {
  state = mmap(NULL, P.nobjects, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  tids = mmap(NULL, P.threads * sizeof(pthread_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (state == MAP_FAILED || tids == MAP_FAILED) die("cannot map thread tables", strerror(errno));
  crash_reserve_worker_stacks(P.threads);
}

void threads_reset(void) { memset((void *)state, 0, P.nobjects); }

static inline uint8_t wait_made(uint32_t obj) {
  uint8_t s;
  unsigned spins = 0;
  while ((s = atomic_load_explicit(&state[obj], memory_order_acquire)) == 0) {
    if (++spins > 64) sched_yield();
  }
  return s;
}

/* Ends object `obj` (made possibly by another thread); returns its block. */
static inline void *take(uint32_t obj) {
  uint8_t s = wait_made(obj);
  if (s == 2) {
    atomic_fetch_add(&t_double_freed, 1);
    return NULL;
  }
  atomic_store_explicit(&state[obj], 2, memory_order_relaxed);
  void *p = slots[obj];
  slots[obj] = NULL;
  return p;
}

static void *worker(void *arg) {
  uint32_t t = (uint32_t)(uintptr_t)arg;
  crash_enter_worker(t);
  atomic_fetch_add_explicit(&ready, 1, memory_order_release);
  while (!atomic_load_explicit(&go, memory_order_acquire)) sched_yield();
  if (atomic_load_explicit(&abandon, memory_order_relaxed)) return NULL;
  /* pace=recorded: this worker's own view (pace.h: it holds only blocks the
   * worker makes and ends itself, so no other thread frees them under it).
   * touch=program as in serial mode; touch first/all do not apply here. */
  const int pace_on = paced(), program = touch == TOUCH_PROGRAM;
  struct pace_view *v = pace_on ? &pace_views[t] : NULL;
  for (uint64_t k = P.thread_start[t]; k < P.thread_start[t + 1]; k++) {
    uint32_t i = P.thread_ops[k];
    const struct ar_op *o = &P.ops[i];
    tl_op = i;
    assert_op_in_bounds(o);
    ar_assert(o->thread == t);
    if (o->op == AR_THREAD_EXIT) break;
    if (pace_on) pace_work(v, P.pace_ns[i]);
    if (o->op == AR_FREE) {
      if (o->obj) {
        if (pace_on) pace_remove(v, o->obj);
        void *p = take(o->obj);
        if (program) touch_program_end(p);
        free(p);
      } else free(NULL);
      continue;
    }
    if (pace_on && o->op == AR_REALLOC && o->arg) pace_remove(v, (uint32_t)o->arg);
    void *old = (o->op == AR_REALLOC && o->arg) ? take((uint32_t)o->arg) : NULL;
    void *p = alloc_op(o, old);
    if (!p && op_bytes(o)) atomic_fetch_add(&t_nulls, 1);
    if (p && program) touch_program_new(p, op_bytes(o));
    if (o->obj) {
      slots[o->obj] = p;
      if (pace_on) pace_add(v, o->obj, p, op_bytes(o));
      atomic_store_explicit(&state[o->obj], p ? 1 : 3, memory_order_release);
    } else if (p) {
      free(p);
    }
  }
  return NULL;
}

void threads_spawn(void) {
  atomic_store(&go, 0);
  atomic_store(&ready, 0);
  /* pthread_create allocates (stacks, TLS): done before the clock starts. */
  for (uint32_t t = 0; t < P.threads; t++) {
    int rc = pthread_create(&tids[t], NULL, worker, (void *)(uintptr_t)t);
    if (rc == 0) continue;
    /* Call the run off: release the workers made so far (they return at
     * once) and join exactly those, never a thread that was not started. */
    atomic_store(&abandon, 1);
    atomic_store_explicit(&go, 1, memory_order_release);
    for (uint32_t k = 0; k < t; k++) pthread_join(tids[k], NULL);
    char what[96];
    snprintf(what, sizeof what, "cannot create thread %u of %u", t + 1, P.threads);
    die(what, strerror(rc));
  }
  while (atomic_load_explicit(&ready, memory_order_acquire) < (int)P.threads) sched_yield();
}

void threads_go_and_join(void) {
  atomic_store_explicit(&go, 1, memory_order_release);
  for (uint32_t t = 0; t < P.threads; t++) pthread_join(tids[t], NULL);
}

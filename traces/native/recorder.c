/* The recorder's hooks: the malloc family, each calling glibc's
 * implementation and logging the call with its result (the design:
 * recorder.h). The per-call path they share, record(), is inline, so each
 * common call is one function with no call besides glibc's. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "recorder.h"

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

/* The state recorder.h declares. */
atomic_uint_fast64_t rec_seq_next;
atomic_int rec_threaded;
atomic_int rec_enabled;
atomic_int rec_closing;
pid_t rec_image_pid;
__thread struct tbuf *rec_own TLS_IE;
__thread int rec_in_hook TLS_IE;
__thread int rec_gone TLS_IE;
__thread uint32_t rec_self_tid TLS_IE;

/* The path of a call that record() does not take inline: a thread's first
 * call, a stamp or a stale check due, an argument, a large size, a full
 * buffer, closing. Out of line, so the hooks' common path saves no
 * registers for it (it is a tail call). Returns `ret`. */
__attribute__((noinline)) static void *record_slow(void *ret, int op, const void *ptr, size_t size, uint64_t arg) {
  rec_in_hook = 1;
  note_thread();
  append_slow(take_seq(), 0, op, ptr, size, arg);
  rec_in_hook = 0;
  return ret;
}

/* Records a call and returns `ret` (the hook's result). `ptr` is the result
 * of an allocation or the freed pointer; `arg` is nmemb, the alignment, or
 * realloc's old pointer. Inline: one slot (no stamp due, no argument, a
 * small size) into a buffer with room, no stale check due (every 256 calls,
 * a multiple of STAMP_EVERY); anything else goes to record_slow. */
static inline __attribute__((always_inline)) void *record(void *ret, int op, const void *ptr, size_t size, uint64_t arg) {
  if (!active()) return ret;
  struct tbuf *b = rec_own;
  if (__builtin_expect(b && !arg && size < SIZE_INLINE && b->calls % STAMP_EVERY && !atomic_load_explicit(&rec_closing, memory_order_relaxed), 1)) {
    uint64_t w = atomic_load_explicit(&b->w, memory_order_relaxed);
    if (__builtin_expect(w - atomic_load_explicit(&b->r, memory_order_acquire) < BUF_SLOTS, 1)) {
      rec_in_hook = 1; /* a signal handler's call now is not recorded (it would take this slot) */
      uint64_t s = take_seq();
      b->calls++;
      b->recs[w % BUF_SLOTS] = (struct rec_t){rec_head(s, (unsigned)op, 0, size), (uint64_t)(uintptr_t)ptr};
      atomic_store_explicit(&b->w, w + 1, memory_order_release);
      rec_in_hook = 0;
      return ret;
    }
  }
  return record_slow(ret, op, ptr, size, arg);
}

void *malloc(size_t n) {
  void *p = __libc_malloc(n);
  return record(p, R_MALLOC, p, n, 0);
}

void free(void *p) {
  /* free(NULL) after this thread's exit was written (glibc's thread
   * teardown makes some) changes nothing and would start a thread of its own. */
  if (!p && rec_gone) return;
  record(NULL, R_FREE, p, 0, 0);
  __libc_free(p);
}

void *calloc(size_t nmemb, size_t n) {
  void *p = __libc_calloc(nmemb, n);
  return record(p, R_CALLOC, p, n, nmemb);
}

void *realloc(void *old, size_t n) {
  if (!active()) return __libc_realloc(old, n);
  /* The sequence number first: once the old block is released, another
   * thread may be handed its address and must come after us. */
  rec_in_hook = 1;
  note_thread();
  uint64_t s = take_seq(), st = stamp();
  void *p = __libc_realloc(old, n);
  append_slow(s, st, R_REALLOC, p, n, (uint64_t)(uintptr_t)old); /* a stamp: never the inline path */
  rec_in_hook = 0;
  return p;
}

void *reallocarray(void *old, size_t nmemb, size_t n) {
  size_t total;
  if (__builtin_mul_overflow(nmemb, n, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(old, total);
}

void *memalign(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  return record(p, R_MEMALIGN, p, n, align);
}

int posix_memalign(void **out, size_t align, size_t n) {
  if (align == 0 || (align & (align - 1)) || align % sizeof(void *)) return EINVAL;
  void *p = __libc_memalign(align, n);
  record(NULL, R_POSIX_MEMALIGN, p, n, align);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void *aligned_alloc(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  return record(p, R_ALIGNED_ALLOC, p, n, align);
}

void *valloc(size_t n) {
  void *p = __libc_valloc(n);
  return record(p, R_VALLOC, p, n, 0);
}

void *pvalloc(size_t n) {
  void *p = __libc_pvalloc(n);
  return record(p, R_PVALLOC, p, n, 0);
}

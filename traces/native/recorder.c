/* The recorder's hooks: the malloc family, each calling glibc's
 * implementation and logging the call with its result (the design:
 * recorder.h). The per-call path they share is inline in recorder.h, so
 * each hook is one function with no call besides glibc's and, now and
 * then, append_slow. */
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

/* `ptr` is the result of an allocation or the freed pointer; `arg` is
 * nmemb, the alignment, or realloc's old pointer. */
static inline void record(int op, const void *ptr, size_t size, uint64_t arg) {
  if (!active()) return;
  rec_in_hook = 1;
  note_thread();
  append(take_seq(), 0, op, ptr, size, arg);
  rec_in_hook = 0;
}

void *malloc(size_t n) {
  void *p = __libc_malloc(n);
  record(R_MALLOC, p, n, 0);
  return p;
}

void free(void *p) {
  /* free(NULL) after this thread's exit was written (glibc's thread
   * teardown makes some) changes nothing and would start a thread of its own. */
  if (!p && rec_gone) return;
  record(R_FREE, p, 0, 0);
  __libc_free(p);
}

void *calloc(size_t nmemb, size_t n) {
  void *p = __libc_calloc(nmemb, n);
  record(R_CALLOC, p, n, nmemb);
  return p;
}

void *realloc(void *old, size_t n) {
  if (!active()) return __libc_realloc(old, n);
  /* The sequence number first: once the old block is released, another
   * thread may be handed its address and must come after us. */
  rec_in_hook = 1;
  note_thread();
  uint64_t s = take_seq(), st = stamp();
  void *p = __libc_realloc(old, n);
  append(s, st, R_REALLOC, p, n, (uint64_t)(uintptr_t)old);
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
  record(R_MEMALIGN, p, n, align);
  return p;
}

int posix_memalign(void **out, size_t align, size_t n) {
  if (align == 0 || (align & (align - 1)) || align % sizeof(void *)) return EINVAL;
  void *p = __libc_memalign(align, n);
  record(R_POSIX_MEMALIGN, p, n, align);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void *aligned_alloc(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  record(R_ALIGNED_ALLOC, p, n, align);
  return p;
}

void *valloc(size_t n) {
  void *p = __libc_valloc(n);
  record(R_VALLOC, p, n, 0);
  return p;
}

void *pvalloc(size_t n) {
  void *p = __libc_pvalloc(n);
  record(R_PVALLOC, p, n, 0);
  return p;
}

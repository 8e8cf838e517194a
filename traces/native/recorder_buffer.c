/* A thread's buffer (struct tbuf, recorder.h) from its first call to its
 * exit: mapped and registered at the first call, the append path for calls
 * the inline append() does not take, written out to the stream when full,
 * when stale and at the end, and written and unmapped at the thread's exit;
 * pthread_create tells the per-call path that numbers must now be taken
 * atomically. One file: the buffer's life and its writing call each other. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>

#include "recorder.h"

/* Slots of a call (raw_log.h). */
/* This thread's buffer, mapped on its first call; NULL after its exit was written. */
static inline struct tbuf *tbuf_get(void) {
  struct tbuf *b = rec_own;
  return b || rec_gone ? b : tbuf_new();
}

static inline unsigned call_slots(uint64_t st, uint64_t size, uint64_t arg) { return 1 + (st || arg) + (size >= SIZE_INLINE); }

/* Writes a call's slots at `to`; returns how many. */
static inline unsigned put_call(struct rec_t *to, uint64_t s, uint64_t st, int op, const void *ptr, uint64_t size, uint64_t arg) {
  unsigned flags = (st || arg ? X_STAMP_ARG : 0) | (size >= SIZE_INLINE ? X_SIZE : 0), n = 1;
  to[0] = (struct rec_t){rec_head(s, (unsigned)op, flags, size), (uint64_t)(uintptr_t)ptr};
  if (flags & X_STAMP_ARG) to[n++] = (struct rec_t){st, arg};
  if (flags & X_SIZE) to[n++] = (struct rec_t){size, 0};
  return n;
}

/* One block, two where the records wrap. */
void write_buffer(struct tbuf *b) {
  uint64_t w = atomic_load_explicit(&b->w, memory_order_acquire);
  uint64_t r = atomic_load_explicit(&b->r, memory_order_relaxed);
  while (r != w) {
    uint64_t from = r % BUF_SLOTS, k = w - r < BUF_SLOTS - from ? w - r : BUF_SLOTS - from;
    struct block_header h;
    fill_header(&h, b->tid, (uint32_t)k);
    log_put(&h, sizeof h);
    log_put(&b->recs[from], (size_t)k * sizeof(struct rec_t));
    r += k;
  }
  /* Release: the owner reuses these slots only after it sees the new r. */
  atomic_store_explicit(&b->r, r, memory_order_release);
}

/* Writes the buffers of other threads whose oldest record is stale. */
static void steal_stale(struct tbuf *own, uint64_t now) {
  for (struct tbuf *b = rec_registry; b; b = b->next) {
    if (b == own) continue;
    uint64_t r = atomic_load_explicit(&b->r, memory_order_relaxed);
    if (atomic_load_explicit(&b->w, memory_order_acquire) != r && age_at(b, r, now) > STALE) write_buffer(b);
  }
}

/* The owner's write of its own buffer, and of stale ones. */
static void flush_own(struct tbuf *b, uint64_t now) {
  if (!lock_log(0)) return;
  write_buffer(b);
  steal_stale(b, now);
  unlock_log();
}

__attribute__((noinline)) void append_slow(uint64_t s, uint64_t st, int op, const void *ptr, size_t size, uint64_t arg) {
  /* Once exit or exec is closing the log, this thread appends nothing more:
   * a call dropped while closing (a full buffer that may not be flushed)
   * must not be followed by a later one that the final write still takes
   * (a free written without the allocation dropped before it). */
  if (atomic_load_explicit(&rec_closing, memory_order_relaxed)) return;
  struct tbuf *b = tbuf_get();
  if (!b) {
    if (!rec_gone || !lock_log(0)) return;
    /* After this thread's exit was written: a block of one call. */
    struct {
      struct block_header h;
      struct rec_t r[3];
    } one;
    unsigned n = put_call(one.r, s, st, op, ptr, size, arg);
    fill_header(&one.h, self(), n);
    log_put(&one, sizeof one.h + n * sizeof(struct rec_t));
    unlock_log();
    return;
  }
  /* The clock costs as much as the rest of a call here (the TSC read is
   * ~12 ns in a virtual machine): every STAMP_EVERY-th call of a thread
   * takes it, the others carry none and get the time of the call before
   * (a few µs of resolution; times are for reading, replay does not pace). */
  uint32_t calls = b->calls++;
  if (!st && calls % STAMP_EVERY == 0) st = stamp();
  unsigned n = call_slots(st, size, arg);
  uint64_t w = atomic_load_explicit(&b->w, memory_order_relaxed);
  uint64_t r = atomic_load_explicit(&b->r, memory_order_acquire);
  /* Padding up to the end of the buffer when the call would straddle it. */
  uint64_t pad = BUF_SLOTS - w % BUF_SLOTS < n ? BUF_SLOTS - w % BUF_SLOTS : 0;
  /* No room, or (looked at every 256 calls) holding a stale call. */
  if (BUF_SLOTS - (w - r) < pad + n || ((calls & 255) == 0 && w != r && age_at(b, r, s) > STALE)) {
    flush_own(b, s);
    if (BUF_SLOTS - (w - atomic_load_explicit(&b->r, memory_order_acquire)) < pad + n) return; /* closing: dropped */
  }
  for (uint64_t i = 0; i < pad; i++) b->recs[(w + i) % BUF_SLOTS] = (struct rec_t){rec_head(s, 0, 0, 0), 0};
  put_call(&b->recs[(w + pad) % BUF_SLOTS], s, st, op, ptr, size, arg);
  atomic_store_explicit(&b->w, w + pad + n, memory_order_release);
}

/* ---- the registry, thread start and exit ---- */

struct tbuf *rec_registry;
static pthread_key_t key;

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static pthread_create_fn real_pthread_create;

__attribute__((constructor)) static void threads_init(void) { real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create"); }

struct tbuf *tbuf_new(void) {
  struct tbuf *b = mmap(NULL, BUF_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b == MAP_FAILED) return NULL;
  _Static_assert(sizeof(struct tbuf) <= 128, "buffer header fits");
  b->recs = (struct rec_t *)((char *)b + 128);
  b->tid = self(); /* w = r = 0: the mapping is zeroed */
  if (!lock_log(0)) {
    munmap(b, BUF_BYTES);
    return NULL;
  }
  b->next = rec_registry;
  rec_registry = b;
  unlock_log();
  rec_own = b;
  pthread_setspecific(key, b);
  return b;
}

/* A thread's exit (its key's destructor): a thread_exit record, then the
 * buffer is written and unmapped. */
static void thread_done(void *arg) {
  struct tbuf *b = arg;
  if (!b) return;
  rec_in_hook = 1;
  append_slow(take_seq(), stamp(), R_THREAD_EXIT, NULL, 0, 0);
  rec_own = NULL;
  rec_gone = 1;
  if (lock_log(0)) {
    struct tbuf **link = &rec_registry;
    while (*link && *link != b) link = &(*link)->next;
    if (*link) *link = b->next;
    write_buffer(b);
    unlock_log();
    munmap(b, BUF_BYTES);
  }
  /* Else closing: the buffer stays for the final write. */
  rec_in_hook = 0;
}

void threads_start(void) { pthread_key_create(&key, thread_done); }

void threads_after_fork(void) {
  /* Other threads' buffers belong to the parent, which writes them. */
  struct tbuf *keep = rec_own;
  for (struct tbuf *b = rec_registry, *next; b; b = next) {
    next = b->next;
    if (b != keep) munmap(b, BUF_BYTES);
  }
  rec_registry = keep;
  rec_self_tid = 0;
  if (keep) {
    atomic_store(&keep->w, 0);
    atomic_store(&keep->r, 0);
    keep->tid = self();
    keep->next = NULL;
  }
}

/* A second thread is about to exist: from here on sequence numbers are
 * taken atomically (take_seq). Set before the thread starts, so none of
 * its calls races the plain path. */
int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  if (!real_pthread_create) real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
  atomic_store(&rec_threaded, 1);
  return real_pthread_create(t, attr, fn, arg);
}

/* The registry of thread buffers: a thread's buffer is mapped and
 * registered at its first call and written out and unmapped at its exit;
 * pthread_create tells the per-call path that numbers must now be taken
 * atomically. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>

#include "recorder.h"

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

/* The recorder: an LD_PRELOAD shim that logs every call of the malloc
 * family with its result, then calls glibc's implementation.
 *
 * - Per-thread buffers of fixed-size records, appended without a lock and
 *   written with one write() when full, at thread exit and at process exit.
 * - A global atomic sequence number orders records across threads; the
 *   converter (traces/record) places each record at its sequence number.
 * - The real functions are glibc's __libc_* entry points, so there is no
 *   dlsym bootstrap to survive: the shim never allocates through itself.
 * - fork: with ALLOCREPLAY_RECORD_FORKS=1 a child starts its own log;
 *   otherwise a child records nothing. exec: buffers are flushed before the
 *   exec family runs; the new image, if it is the recorded process (same
 *   pid), starts a new log.
 * - A per-thread guard keeps calls made while recording (none expected)
 *   from being recorded twice.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ar_text.h"

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

enum { R_MALLOC = 1, R_CALLOC, R_REALLOC, R_FREE, R_MEMALIGN, R_POSIX_MEMALIGN, R_ALIGNED_ALLOC, R_VALLOC, R_PVALLOC, R_THREAD_EXIT };

/* One call, 40 bytes, little-endian; read by traces/record/index.ts. The
 * log is a sequence of blocks: a 32-byte header {magic "ARB2", tid, count,
 * 0, stamp, ns} and `count` records of that thread. Bytes written are the
 * recorder's main cost, so a record holds only what the converter needs.
 * Records carry a cheap stamp (the TSC on x86-64, else CLOCK_MONOTONIC ns);
 * every header pairs a stamp with CLOCK_MONOTONIC ns, from which the
 * converter maps stamps to ns. */
struct rec_t {
  uint64_t seq_op; /* global sequence number << 8 | op */
  uint64_t ns;     /* stamp, see above */
  uint64_t ptr;    /* the result (allocations, realloc), or the freed pointer */
  uint64_t size;
  uint64_t arg;    /* calloc nmemb, alignment, realloc's old pointer */
};
_Static_assert(sizeof(struct rec_t) == 40, "record is 40 bytes");

struct block_header {
  uint32_t magic, tid, count, zero;
  uint64_t stamp, ns; /* a calibration point: the same instant on both clocks */
};

#define BUF_RECS 16384

struct tbuf {
  struct rec_t *recs;
  unsigned n;
  uint32_t tid;
  struct tbuf *next; /* registry of live buffers */
  int dead;
};

static atomic_uint_fast64_t seq;
static int log_fd = -1;
static int enabled;
static int follow_forks;
static char log_dir[512];
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tbuf *registry;
static pthread_key_t key;
static __thread struct tbuf *tl __attribute__((tls_model("initial-exec")));
static __thread int in_hook __attribute__((tls_model("initial-exec")));

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
#include <x86intrin.h>
/* A few cycles instead of a clock_gettime per call. */
static inline uint64_t stamp(void) { return __rdtsc(); }
#else
static inline uint64_t stamp(void) { return now_ns(); }
#endif

static void fill_header(struct block_header *h, uint32_t tid, uint32_t count) {
  h->magic = 0x32425241u; /* "ARB2" */
  h->tid = tid;
  h->count = count;
  h->zero = 0;
  h->stamp = stamp();
  h->ns = now_ns();
}

static void write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      return;
    }
    c += w;
    n -= (size_t)w;
  }
}

/* Writes a thread's buffer as one block: the header sits just before the
 * records (see tbuf_get), so a block is one write(). */
static void flush(struct tbuf *b) {
  if (b->n && log_fd >= 0) {
    struct block_header *h = (struct block_header *)((char *)b->recs - sizeof(struct block_header));
    fill_header(h, b->tid, b->n);
    write_all(log_fd, h, sizeof *h + (size_t)b->n * sizeof(struct rec_t));
  }
  b->n = 0;
}

/* Opens this process image's log: DIR/raw-<pid>-<ns>.bin */
static void open_log(void) {
  char path[600], *p = path;
  size_t dl = strlen(log_dir);
  memcpy(p, log_dir, dl), p += dl;
  memcpy(p, "/raw-", 5), p += 5;
  p = ar_put_u64(p, (uint64_t)getpid());
  *p++ = '-';
  p = ar_put_u64(p, now_ns());
  memcpy(p, ".bin", 5);
  log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd >= 0) {
    /* An empty block: the first calibration point. */
    struct block_header h;
    fill_header(&h, 0, 0);
    write_all(log_fd, &h, sizeof h);
  }
}

static void thread_done(void *arg) {
  struct tbuf *b = arg;
  if (!enabled || !b) return;
  struct rec_t *r = &b->recs[b->n++];
  memset(r, 0, sizeof *r);
  r->seq_op = atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed) << 8 | R_THREAD_EXIT;
  r->ns = stamp();
  pthread_mutex_lock(&reg_lock);
  flush(b);
  b->dead = 1;
  pthread_mutex_unlock(&reg_lock);
  tl = NULL;
}

static struct tbuf *tbuf_get(void) {
  struct tbuf *b = tl;
  if (b) return b;
  b = mmap(NULL, 128 + BUF_RECS * sizeof(struct rec_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b == MAP_FAILED) return NULL;
  _Static_assert(sizeof(struct tbuf) + sizeof(struct block_header) <= 128, "buffer header fits");
  b->recs = (struct rec_t *)((char *)b + 128);
  b->tid = (uint32_t)syscall(SYS_gettid);
  pthread_mutex_lock(&reg_lock);
  b->next = registry;
  registry = b;
  pthread_mutex_unlock(&reg_lock);
  tl = b;
  pthread_setspecific(key, b);
  return b;
}

/* `ptr` is the result of an allocation (the new block of a realloc) or the
 * freed pointer; `arg` is nmemb, the alignment, or realloc's old pointer. */
static inline void record(int op, const void *ptr, size_t size, uint64_t arg) {
  if (!enabled || in_hook) return;
  in_hook = 1;
  struct tbuf *b = tbuf_get();
  if (b) {
    if (b->n == BUF_RECS) flush(b);
    struct rec_t *r = &b->recs[b->n++];
    r->seq_op = atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed) << 8 | (uint64_t)op;
    r->ns = stamp();
    r->ptr = (uint64_t)(uintptr_t)ptr;
    r->size = size;
    r->arg = arg;
  }
  in_hook = 0;
}

static void flush_all(void) {
  pthread_mutex_lock(&reg_lock);
  for (struct tbuf *b = registry; b; b = b->next)
    if (!b->dead) flush(b);
  pthread_mutex_unlock(&reg_lock);
}

static void at_fork_child(void) {
  /* Other threads' buffers belong to the parent, which flushes them. */
  registry = NULL;
  pthread_mutex_init(&reg_lock, NULL);
  if (tl) {
    tl->n = 0;
    tl->tid = (uint32_t)syscall(SYS_gettid);
    tl->next = NULL;
    registry = tl;
  }
  if (!follow_forks) {
    enabled = 0;
    log_fd = -1;
    return;
  }
  atomic_store(&seq, 0);
  open_log();
}

__attribute__((constructor)) static void rec_init(void) {
  const char *dir = getenv("ALLOCREPLAY_RECORD_DIR");
  const char *pid = getenv("ALLOCREPLAY_RECORD_PID");
  follow_forks = getenv("ALLOCREPLAY_RECORD_FORKS") && getenv("ALLOCREPLAY_RECORD_FORKS")[0] == '1';
  if (!dir || strlen(dir) >= sizeof log_dir) return;
  /* Record the launched process (and the images it execs); its children only when following forks. */
  if (pid && !follow_forks && (uint64_t)atoll(pid) != (uint64_t)getpid()) return;
  strcpy(log_dir, dir);
  pthread_key_create(&key, thread_done);
  pthread_atfork(NULL, NULL, at_fork_child);
  open_log();
  enabled = log_fd >= 0;
}

__attribute__((destructor)) static void rec_fini(void) {
  if (!enabled) return;
  flush_all();
}

/* ---- the malloc family ---- */
void *malloc(size_t n) {
  void *p = __libc_malloc(n);
  record(R_MALLOC, p, n, 0);
  return p;
}

void free(void *p) {
  record(R_FREE, p, 0, 0);
  __libc_free(p);
}

void *calloc(size_t nmemb, size_t n) {
  void *p = __libc_calloc(nmemb, n);
  record(R_CALLOC, p, n, nmemb);
  return p;
}

void *realloc(void *old, size_t n) {
  void *p = __libc_realloc(old, n);
  record(R_REALLOC, p, n, (uint64_t)(uintptr_t)old);
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

/* ---- exec: flush first, or the buffered events die with the image ---- */
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execvp_fn)(const char *, char *const[]);

int execve(const char *path, char *const argv[], char *const envp[]) {
  flush_all();
  execve_fn real = (execve_fn)dlsym(RTLD_NEXT, "execve");
  return real(path, argv, envp);
}

int execv(const char *path, char *const argv[]) {
  flush_all();
  execvp_fn real = (execvp_fn)dlsym(RTLD_NEXT, "execv");
  return real(path, argv);
}

int execvp(const char *file, char *const argv[]) {
  flush_all();
  execvp_fn real = (execvp_fn)dlsym(RTLD_NEXT, "execvp");
  return real(file, argv);
}

/* ---- _exit skips destructors: flush first (a forked child often ends so) ---- */
void _exit(int status) {
  if (enabled) flush_all();
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

void _Exit(int status) { _exit(status); }

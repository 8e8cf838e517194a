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

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

enum { R_MALLOC = 1, R_CALLOC, R_REALLOC, R_FREE, R_MEMALIGN, R_POSIX_MEMALIGN, R_ALIGNED_ALLOC, R_VALLOC, R_PVALLOC, R_THREAD_EXIT };

/* One call, 56 bytes, little-endian; layout mirrored by traces/record/raw.ts. */
struct rec_t {
  uint64_t seq;
  uint64_t ptr;    /* argument pointer (free, realloc) */
  uint64_t size;
  uint64_t arg;    /* nmemb, alignment */
  uint64_t result; /* returned pointer */
  uint64_t ns;     /* CLOCK_MONOTONIC */
  uint32_t tid;
  uint32_t op;
};
_Static_assert(sizeof(struct rec_t) == 56, "record is 56 bytes");

#define BUF_RECS 8192

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

static void flush(struct tbuf *b) {
  if (b->n && log_fd >= 0) write_all(log_fd, b->recs, (size_t)b->n * sizeof(struct rec_t));
  b->n = 0;
}

static char *put_u64(char *p, uint64_t v) {
  char t[24];
  int k = 0;
  do t[k++] = (char)('0' + v % 10), v /= 10;
  while (v);
  while (k) *p++ = t[--k];
  return p;
}

/* Opens this process image's log: DIR/raw-<pid>-<ns>.bin */
static void open_log(void) {
  char path[600], *p = path;
  size_t dl = strlen(log_dir);
  memcpy(p, log_dir, dl), p += dl;
  memcpy(p, "/raw-", 5), p += 5;
  p = put_u64(p, (uint64_t)getpid());
  *p++ = '-';
  p = put_u64(p, now_ns());
  memcpy(p, ".bin", 5);
  log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
}

static void thread_done(void *arg) {
  struct tbuf *b = arg;
  if (!enabled || !b) return;
  struct rec_t *r = &b->recs[b->n++];
  memset(r, 0, sizeof *r);
  r->seq = atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed);
  r->tid = b->tid;
  r->op = R_THREAD_EXIT;
  r->ns = now_ns();
  pthread_mutex_lock(&reg_lock);
  flush(b);
  b->dead = 1;
  pthread_mutex_unlock(&reg_lock);
  tl = NULL;
}

static struct tbuf *tbuf_get(void) {
  struct tbuf *b = tl;
  if (b) return b;
  b = mmap(NULL, sizeof *b + BUF_RECS * sizeof(struct rec_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b == MAP_FAILED) return NULL;
  b->recs = (struct rec_t *)(b + 1);
  b->tid = (uint32_t)syscall(SYS_gettid);
  pthread_mutex_lock(&reg_lock);
  b->next = registry;
  registry = b;
  pthread_mutex_unlock(&reg_lock);
  tl = b;
  pthread_setspecific(key, b);
  return b;
}

static inline void record(int op, const void *ptr, size_t size, size_t arg, const void *result) {
  if (!enabled || in_hook) return;
  in_hook = 1;
  struct tbuf *b = tbuf_get();
  if (b) {
    if (b->n == BUF_RECS) flush(b);
    struct rec_t *r = &b->recs[b->n++];
    r->seq = atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed);
    r->ptr = (uint64_t)(uintptr_t)ptr;
    r->size = size;
    r->arg = arg;
    r->result = (uint64_t)(uintptr_t)result;
    r->tid = b->tid;
    r->op = (uint32_t)op;
    r->ns = now_ns();
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
  record(R_MALLOC, NULL, n, 0, p);
  return p;
}

void free(void *p) {
  record(R_FREE, p, 0, 0, NULL);
  __libc_free(p);
}

void *calloc(size_t nmemb, size_t n) {
  void *p = __libc_calloc(nmemb, n);
  record(R_CALLOC, NULL, n, nmemb, p);
  return p;
}

void *realloc(void *old, size_t n) {
  void *p = __libc_realloc(old, n);
  record(R_REALLOC, old, n, 0, p);
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
  record(R_MEMALIGN, NULL, n, align, p);
  return p;
}

int posix_memalign(void **out, size_t align, size_t n) {
  if (align == 0 || (align & (align - 1)) || align % sizeof(void *)) return EINVAL;
  void *p = __libc_memalign(align, n);
  record(R_POSIX_MEMALIGN, NULL, n, align, p);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void *aligned_alloc(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  record(R_ALIGNED_ALLOC, NULL, n, align, p);
  return p;
}

void *valloc(size_t n) {
  void *p = __libc_valloc(n);
  record(R_VALLOC, NULL, n, 0, p);
  return p;
}

void *pvalloc(size_t n) {
  void *p = __libc_pvalloc(n);
  record(R_PVALLOC, NULL, n, 0, p);
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

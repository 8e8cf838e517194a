/* The recorder: an LD_PRELOAD shim that logs every call of the malloc
 * family with its result, then calls glibc's implementation.
 *
 * - Each process image streams its calls to the converter (converter.c)
 *   over a Unix socket (ALLOCREPLAY_RECORD_SOCK), in blocks of one thread's
 *   records (raw_log.h). Nothing is kept on disk and the converter reads
 *   while the program runs.
 * - A global sequence number orders records across threads (atomic once
 *   the process has a second thread: take_seq); the converter puts them
 *   back in that order. It is taken *before* the call
 *   for free and realloc (the address may be handed to another thread as
 *   soon as it is released) and after it for allocations.
 * - Per-thread buffers are circular: only the owner appends (at `w`, then
 *   publishes w + 1 with a release store: no atomic read-modify-write
 *   besides the sequence number), and whoever holds the log lock writes
 *   out [r, w) and advances `r`. A buffer is written when full, when its
 *   oldest record is STALE sequence numbers old (the owner notices), or —
 *   for a thread that sleeps with a part-full buffer — by whichever thread
 *   writes next (it takes stale buffers too). So the converter's reorder
 *   window stays bounded however the threads are scheduled.
 * - One spin lock, owned by a thread id, serialises writes to the stream and
 *   the registry of buffers. Exit, _exit and exec set `closing`, take it and
 *   write every buffer's published records; nothing is written after that,
 *   and a thread that finds `closing` drops a call rather than wait. So no
 *   record is written twice or torn, and what is written of each thread is
 *   a prefix of its calls. _exit uses no mutex (async-signal-safe); a signal
 *   handler that interrupts this thread's own write gives up rather than
 *   interleave.
 * - Thread exit writes a thread_exit record and the rest of the buffer,
 *   then unmaps it. Calls made later on that thread (other destructors) go
 *   out as one-record blocks.
 * - exec and _exit: recorder_exec.c. SIGINT, SIGTERM and SIGHUP, when the
 *   program leaves them at their default action, write everything first and
 *   then end the process by the same signal.
 * - The real functions are glibc's __libc_* entry points, so there is no
 *   dlsym bootstrap to survive: the shim never allocates through itself.
 * - fork: with ALLOCREPLAY_RECORD_FORKS=1 a child starts its own stream;
 *   otherwise a child records nothing. exec (every exec function): buffers
 *   are written first; the new image, if it is the recorded process, starts
 *   a new stream.
 *
 * One file of ~500 lines on purpose: every hook and the buffer code it calls
 * sit in one translation unit so the per-call path (every malloc of the
 * recorded program) inlines without LTO, and the shim builds with one
 * compiler call (traces/native-build.ts).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "raw_log.h"
#include "recorder.h"

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

#define BUF_SLOTS 16384
/* A buffered call older than this many sequence numbers gets written
 * (the converter's window, WINDOW in converter.c, is 8× larger and grows). */
#define STALE (1u << 16)
#define BUF_BYTES (128 + BUF_SLOTS * sizeof(struct rec_t))
#define STAMP_EVERY 64

struct tbuf {
  struct rec_t *recs; /* BUF_SLOTS slots, used circularly (raw_log.h) */
  uint32_t tid;
  uint32_t calls;     /* calls appended; only the owner uses it */
  _Atomic uint64_t w; /* slots appended; only the owner stores it */
  _Atomic uint64_t r; /* slots written out; stored under the log lock */
  struct tbuf *next;  /* registry; under the log lock */
};

static atomic_uint_fast64_t seq;
static atomic_int threaded; /* a second thread may take sequence numbers: see take_seq */
static atomic_int enabled;
static atomic_int closing;   /* exit or exec is writing everything out */
static atomic_uint log_owner; /* thread id holding the log lock, or 0 */
static int log_fd = -1;
static struct ring_ctl *ring; /* shared with the converter; NULL: the socket carries the stream */
static uint8_t *ring_data;
static int follow_forks;
static pid_t image_pid;
static char sock_path[108];
static struct tbuf *registry;
static pthread_key_t key;
static __thread struct tbuf *tl __attribute__((tls_model("initial-exec")));
static __thread int in_hook __attribute__((tls_model("initial-exec")));
static __thread int gone __attribute__((tls_model("initial-exec")));
static __thread uint32_t self_tid __attribute__((tls_model("initial-exec")));

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
#include <x86intrin.h>
/* A few cycles instead of a clock_gettime per call. */
static inline uint64_t stamp(void) { return __rdtsc(); }
static inline void relax(void) { _mm_pause(); }
#else
static inline uint64_t stamp(void) { return now_ns(); }
static inline void relax(void) {}
#endif

static uint32_t self(void) {
  if (!self_tid) self_tid = (uint32_t)syscall(SYS_gettid);
  return self_tid;
}

/* The log lock. Returns 0 without it when this thread already holds it (a
 * signal handler interrupted a write) or, unless `final`, when exit or exec
 * is closing the log (that thread writes this one's buffer). */
static int lock_log(int final) {
  unsigned me = self();
  for (unsigned spins = 0;; spins++) {
    /* Checked first: once the final write is done nothing may follow it (a
     * block written later could hold a free whose allocation was dropped). */
    if (!final && atomic_load(&closing)) return 0;
    unsigned free_ = 0;
    if (atomic_compare_exchange_weak_explicit(&log_owner, &free_, me, memory_order_acquire, memory_order_relaxed)) return 1;
    if (free_ == me) return 0;
    if (spins > 64) sched_yield();
    else relax();
  }
}

static void unlock_log(void) { atomic_store_explicit(&log_owner, 0, memory_order_release); }

static void fill_header(struct block_header *h, uint32_t tid, uint32_t count) {
  *h = (struct block_header){BLOCK_MAGIC, tid, count, 0, stamp(), now_ns()};
}

/* Through the socket (no ring). A failed send (the converter is gone) stops recording. */
static void send_all(const void *p, size_t n) {
  const char *c = p;
  while (n && log_fd >= 0) {
    ssize_t w = send(log_fd, c, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      atomic_store(&enabled, 0);
      return;
    }
    c += w, n -= (size_t)w;
  }
}

/* Waits until the ring has `n` bytes free; 0 when the converter is gone. */
static int ring_room(uint64_t head, size_t n) {
  for (unsigned i = 0; RING_BYTES - (head - atomic_load_explicit(&ring->tail, memory_order_acquire)) < n; i++) {
    if (i < 32) {
      relax();
      continue;
    }
    /* The converter is behind: sleep, so that it gets the CPU if it shares ours. */
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
    char c;
    if ((i & 63) == 0 && recv(log_fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0) {
      atomic_store(&enabled, 0);
      return 0;
    }
  }
  return 1;
}

/* Appends to the stream; with the log lock. Async-signal-safe. */
static void log_put(const void *p, size_t n) {
  if (!ring) {
    send_all(p, n);
    return;
  }
  uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
  if (!ring_room(head, n)) return;
  size_t off = head % RING_BYTES, first = RING_BYTES - off < n ? RING_BYTES - off : n;
  memcpy(ring_data + off, p, first);
  memcpy(ring_data, (const char *)p + first, n - first);
  atomic_store(&ring->head, head + n);
  /* Seen after the head moved (both sequentially consistent): a reader that
   * announced its sleep either sees the new head or gets the byte. */
  if (atomic_load(&ring->waiting) && atomic_exchange(&ring->waiting, 0)) send(log_fd, "", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* How many sequence numbers the call at slot i is behind `now` (a call
 * starts at every published position, padding too: it carries the number
 * of the call after it). */
static inline uint64_t age_at(const struct tbuf *b, uint64_t i, uint64_t now) { return (now - rec_seq(b->recs[i % BUF_SLOTS].head)) & SEQ_MASK; }

/* Writes out a buffer's published records (one block, two where they wrap);
 * with the log lock. */
static void write_buffer(struct tbuf *b) {
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
  for (struct tbuf *b = registry; b; b = b->next) {
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

static void thread_done(void *arg);

static struct tbuf *tbuf_get(void) {
  struct tbuf *b = tl;
  if (b || gone) return b;
  b = mmap(NULL, BUF_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b == MAP_FAILED) return NULL;
  _Static_assert(sizeof(struct tbuf) <= 128, "buffer header fits");
  b->recs = (struct rec_t *)((char *)b + 128);
  b->tid = self(); /* w = r = 0: the mapping is zeroed */
  if (!lock_log(0)) {
    munmap(b, BUF_BYTES);
    return NULL;
  }
  b->next = registry;
  registry = b;
  unlock_log();
  tl = b;
  pthread_setspecific(key, b);
  return b;
}

/* Slots of a call (raw_log.h). */
static inline unsigned call_slots(uint64_t st, uint64_t size, uint64_t arg) { return 1 + (st || arg) + (size >= SIZE_INLINE); }

/* Writes a call's slots at `to`; returns how many. */
static inline unsigned put_call(struct rec_t *to, uint64_t s, uint64_t st, int op, const void *ptr, uint64_t size, uint64_t arg) {
  unsigned flags = (st || arg ? X_STAMP_ARG : 0) | (size >= SIZE_INLINE ? X_SIZE : 0), n = 1;
  to[0] = (struct rec_t){rec_head(s, (unsigned)op, flags, size), (uint64_t)(uintptr_t)ptr};
  if (flags & X_STAMP_ARG) to[n++] = (struct rec_t){st, arg};
  if (flags & X_SIZE) to[n++] = (struct rec_t){size, 0};
  return n;
}

/* Appends one call with sequence number `s`; `st` is its stamp, or 0 to
 * take one when due. The whole path; append() below takes the common case. */
__attribute__((noinline)) static void append_slow(uint64_t s, uint64_t st, int op, const void *ptr, size_t size, uint64_t arg) {
  /* Once exit or exec is closing the log, this thread appends nothing more:
   * a call dropped while closing (a full buffer that may not be flushed)
   * must not be followed by a later one that the final write still takes
   * (a free written without the allocation dropped before it). */
  if (atomic_load_explicit(&closing, memory_order_relaxed)) return;
  struct tbuf *b = tbuf_get();
  if (!b) {
    if (!gone || !lock_log(0)) return;
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

/* The common call, inlined into every hook: one slot (no stamp due, no
 * argument, a small size) into a buffer with room, no stale check due
 * (every 256 calls, a multiple of STAMP_EVERY). */
static inline void append(uint64_t s, uint64_t st, int op, const void *ptr, size_t size, uint64_t arg) {
  struct tbuf *b = tl;
  if (__builtin_expect(b && !st && !arg && size < SIZE_INLINE && b->calls % STAMP_EVERY && !atomic_load_explicit(&closing, memory_order_relaxed), 1)) {
    uint64_t w = atomic_load_explicit(&b->w, memory_order_relaxed);
    if (__builtin_expect(w - atomic_load_explicit(&b->r, memory_order_acquire) < BUF_SLOTS, 1)) {
      b->calls++;
      b->recs[w % BUF_SLOTS] = (struct rec_t){rec_head(s, (unsigned)op, 0, size), (uint64_t)(uintptr_t)ptr};
      atomic_store_explicit(&b->w, w + 1, memory_order_release);
      return;
    }
  }
  append_slow(s, st, op, ptr, size, arg);
}

/* The next sequence number. While the process has one thread, a plain
 * load and store: an atomic add is a full barrier on x86-64 and cost about
 * 40% of the recorder's time per call (4 of 10 ns). `threaded` is set
 * before any second thread can take a number: by pthread_create (below)
 * before the thread exists; for threads started some other way (C11
 * thrd_create, glibc's helper threads, a raw clone) by the thread's first
 * call, which leaves a window of a few instructions in which two threads
 * may take the same number once (the converter counts it as late). */
static inline uint64_t take_seq(void) {
  if (atomic_load_explicit(&threaded, memory_order_relaxed)) return atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed);
  uint64_t s = atomic_load_explicit(&seq, memory_order_relaxed);
  atomic_store_explicit(&seq, s + 1, memory_order_relaxed);
  return s;
}

/* A thread's first call (no buffer yet) that is not the image's first
 * thread: from now on numbers are taken atomically. */
static inline void note_thread(void) {
  if (__builtin_expect(!tl, 0) && !gone && self() != (uint32_t)image_pid && !atomic_load_explicit(&threaded, memory_order_relaxed)) atomic_store(&threaded, 1);
}

static inline int active(void) { return atomic_load_explicit(&enabled, memory_order_relaxed) && !in_hook; }

/* `ptr` is the result of an allocation or the freed pointer; `arg` is
 * nmemb, the alignment, or realloc's old pointer. */
static inline void record(int op, const void *ptr, size_t size, uint64_t arg) {
  if (!active()) return;
  in_hook = 1;
  note_thread();
  append(take_seq(), 0, op, ptr, size, arg);
  in_hook = 0;
}

static void thread_done(void *arg) {
  struct tbuf *b = arg;
  if (!b) return;
  in_hook = 1;
  append(take_seq(), stamp(), R_THREAD_EXIT, NULL, 0, 0);
  tl = NULL;
  gone = 1;
  if (lock_log(0)) {
    struct tbuf **link = &registry;
    while (*link && *link != b) link = &(*link)->next;
    if (*link) *link = b->next;
    write_buffer(b);
    unlock_log();
    munmap(b, BUF_BYTES);
  }
  /* Else closing: the buffer stays for the final write. */
  in_hook = 0;
}

/* Exit, _exit and exec: write every buffer, and no more after this. */
void recorder_flush_final(void) {
  if (!atomic_load(&enabled) || getpid() != image_pid) return; /* not ours, or a vfork child */
  atomic_store(&closing, 1);
  if (!lock_log(1)) return;
  /* Published records only: one an owner is writing now (or that a signal
   * handler interrupted on this thread) is not, and is not written. */
  for (struct tbuf *b = registry; b; b = b->next) write_buffer(b);
  unlock_log();
}

/* The shared ring, or NULL (then the socket carries the stream). */
static int make_ring(void) {
  int fd = memfd_create("allocreplay-ring", MFD_CLOEXEC);
  if (fd < 0) return -1;
  void *m = MAP_FAILED;
  if (!ftruncate(fd, RING_CTL_BYTES + RING_BYTES)) m = mmap(NULL, RING_CTL_BYTES + RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    close(fd);
    return -1;
  }
  ring = m;
  ring_data = (uint8_t *)m + RING_CTL_BYTES;
  return fd;
}

/* Connects this image's stream; the first block names the process and
 * carries the ring. */
static void open_log(void) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, sock_path, sizeof sock_path);
  log_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (log_fd < 0) return;
  if (connect(log_fd, (struct sockaddr *)&addr, sizeof addr)) {
    close(log_fd);
    log_fd = -1;
    return;
  }
  struct block_header h;
  fill_header(&h, (uint32_t)getpid(), 0);
  struct iovec iov = {&h, sizeof h};
  union {
    struct cmsghdr c;
    char b[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  int rfd = make_ring();
  if (rfd >= 0) {
    msg.msg_control = u.b;
    msg.msg_controllen = sizeof u.b;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &rfd, sizeof rfd);
  }
  if (sendmsg(log_fd, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof h) {
    close(log_fd);
    log_fd = -1;
  }
  if (rfd >= 0) close(rfd); /* the mapping stays */
}

/* A process of the command that is not recorded (a child, without
 * --follow-forks) says so: its pid, one line appended to the file the
 * launcher names, so `record` can tell the user what the trace lacks. A
 * child that forks and then execs writes its pid twice; the launcher counts
 * distinct pids. Async-signal-safe: it runs in a fork child. */
static void note_unrecorded(void) {
  const char *path = getenv("ALLOCREPLAY_RECORD_UNRECORDED");
  if (!path || !*path) return;
  char line[24];
  int n = 0;
  char digits[20];
  for (unsigned long v = (unsigned long)getpid(); n == 0 || v; v /= 10) digits[n++] = (char)('0' + v % 10);
  int len = 0;
  while (n) line[len++] = digits[--n];
  line[len++] = '\n';
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  (void)!write(fd, line, (size_t)len);
  close(fd);
}

static void at_fork_child(void) {
  /* Other threads' buffers belong to the parent, which writes them. */
  struct tbuf *keep = tl;
  for (struct tbuf *b = registry, *next; b; b = next) {
    next = b->next;
    if (b != keep) munmap(b, BUF_BYTES);
  }
  registry = keep;
  self_tid = 0;
  if (keep) {
    atomic_store(&keep->w, 0);
    atomic_store(&keep->r, 0);
    keep->tid = self();
    keep->next = NULL;
  }
  atomic_store(&log_owner, 0);
  atomic_store(&closing, 0);
  atomic_store(&threaded, 0); /* a child has one thread */
  image_pid = getpid();
  if (log_fd >= 0) close(log_fd);
  log_fd = -1;
  if (ring) munmap(ring, RING_CTL_BYTES + RING_BYTES); /* the parent's */
  ring = NULL;
  atomic_store(&enabled, 0);
  if (!follow_forks) {
    note_unrecorded();
    return;
  }
  atomic_store(&seq, 0);
  open_log();
  atomic_store(&enabled, log_fd >= 0);
}

/* A terminating signal whose action was the default (Ctrl-C, kill): write
 * everything, then die of it as the program would have. */
static void on_fatal(int sig) {
  recorder_flush_final();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void catch_fatal(void) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    struct sigaction old;
    if (sigaction(sigs[i], NULL, &old) || old.sa_handler != SIG_DFL) continue; /* ignored or handled: the program's */
    struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(sigs[i], &sa, NULL);
  }
}

/* An exec failed: the image goes on, and so does recording. */
void recorder_exec_failed(void) { atomic_store(&closing, 0); }

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static pthread_create_fn real_pthread_create;

/* A second thread is about to exist: from here on sequence numbers are
 * taken atomically (take_seq). Set before the thread starts, so none of
 * its calls races the plain path. */
int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  if (!real_pthread_create) real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
  atomic_store(&threaded, 1);
  return real_pthread_create(t, attr, fn, arg);
}

__attribute__((constructor)) static void rec_init(void) {
  real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
  const char *sock = getenv("ALLOCREPLAY_RECORD_SOCK");
  const char *parent = getenv("ALLOCREPLAY_RECORD_PPID");
  const char *forks = getenv("ALLOCREPLAY_RECORD_FORKS");
  follow_forks = forks && forks[0] == '1';
  if (!sock || strlen(sock) >= sizeof sock_path) return;
  /* The launched command (whose parent is the launcher), and the images it
   * execs; other processes only when following forks. */
  if (!follow_forks && (!parent || (uint64_t)atoll(parent) != (uint64_t)getppid())) {
    note_unrecorded();
    return;
  }
  strcpy(sock_path, sock);
  image_pid = getpid();
  pthread_key_create(&key, thread_done);
  pthread_atfork(NULL, NULL, at_fork_child);
  open_log();
  atomic_store(&enabled, log_fd >= 0);
  if (log_fd >= 0) catch_fatal();
}

__attribute__((destructor)) static void rec_fini(void) { recorder_flush_final(); }

/* ---- the malloc family ---- */
void *malloc(size_t n) {
  void *p = __libc_malloc(n);
  record(R_MALLOC, p, n, 0);
  return p;
}

void free(void *p) {
  /* free(NULL) after this thread's exit was written (glibc's thread
   * teardown makes some) changes nothing and would start a thread of its own. */
  if (!p && gone) return;
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
  in_hook = 1;
  note_thread();
  uint64_t s = take_seq(), st = stamp();
  void *p = __libc_realloc(old, n);
  append(s, st, R_REALLOC, p, n, (uint64_t)(uintptr_t)old);
  in_hook = 0;
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

/* The recorder: an LD_PRELOAD shim that logs every call of the malloc
 * family with its result, then calls glibc's implementation. What its files
 * share (hidden: nothing here is exported from the shim).
 *
 *   recorder.c          the malloc-family hooks
 *   recorder_buffer.c   a thread's buffer from first call to exit: the registry,
 *                       the slow append, writing buffers out, thread start and exit
 *   recorder_stream.c   the stream to the converter: log lock, ring, socket
 *   recorder_process.c  load, exit, fork and terminating signals
 *   recorder_exec.c     exec and _exit
 *
 * - Each process image streams its calls to the converter (converter.c)
 *   over a Unix socket (ALLOCREPLAY_RECORD_SOCK), in blocks of one thread's
 *   records (raw_log.h). Nothing is kept on disk and the converter reads
 *   while the program runs.
 * - A global sequence number orders records across threads (atomic once
 *   the process has a second thread: take_seq); the converter puts them
 *   back in that order. It is taken *before* the call for free and realloc
 *   (the address may be handed to another thread as soon as it is released)
 *   and after it for allocations.
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
 * - SIGINT, SIGTERM and SIGHUP, when the program leaves them at their
 *   default action, write everything first and then end the process by the
 *   same signal.
 * - The real functions are glibc's __libc_* entry points, so there is no
 *   dlsym bootstrap to survive: the shim never allocates through itself.
 * - fork: with ALLOCREPLAY_RECORD_FORKS=1 a child starts its own stream;
 *   otherwise a child records nothing. exec (every exec function): buffers
 *   are written first; the new image, if it is the recorded process, starts
 *   a new stream.
 *
 * The per-call path (record() in recorder.c and the helpers below) is
 * static inline, so every hook inlines it without LTO; state is hidden, so
 * it is reached PC-relative as a file's statics would be.
 */
#ifndef ALLOCREPLAY_RECORDER_H
#define ALLOCREPLAY_RECORDER_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "raw_log.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define TLS_IE __attribute__((tls_model("initial-exec")))

#define BUF_SLOTS 16384
/* A buffered call older than this many sequence numbers gets written
 * (the converter's reorder window, WINDOW in convert.h, is 8×
 * larger and grows). */
#define STALE (1u << 16)
#define BUF_BYTES (128 + BUF_SLOTS * sizeof(struct rec_t))
#define STAMP_EVERY 64

/* One thread's buffer: a 128-byte header, then BUF_SLOTS slots. */
struct tbuf {
  struct rec_t *recs; /* BUF_SLOTS slots, used circularly (raw_log.h) */
  uint32_t tid;
  uint32_t calls;     /* calls appended; only the owner uses it */
  _Atomic uint64_t w; /* slots appended; only the owner stores it */
  _Atomic uint64_t r; /* slots written out; stored under the log lock */
  struct tbuf *next;  /* registry; under the log lock */
};

/* ---- state (recorder.c defines it) ---- */
extern HIDDEN atomic_uint_fast64_t rec_seq_next; /* the next sequence number */
extern HIDDEN atomic_int rec_threaded;  /* a second thread may take sequence numbers: see take_seq */
extern HIDDEN atomic_int rec_enabled;
extern HIDDEN atomic_int rec_closing;   /* exit or exec is writing everything out */
extern HIDDEN pid_t rec_image_pid;
extern HIDDEN __thread struct tbuf *rec_own TLS_IE; /* this thread's buffer, or NULL */
extern HIDDEN __thread int rec_in_hook TLS_IE;      /* inside a hook: calls the recorder makes are not recorded */
extern HIDDEN __thread int rec_gone TLS_IE;         /* this thread's exit was written */
extern HIDDEN __thread uint32_t rec_self_tid TLS_IE;

static inline uint64_t now_ns(void) {
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

static inline uint32_t self(void) {
  if (!rec_self_tid) rec_self_tid = (uint32_t)syscall(SYS_gettid);
  return rec_self_tid;
}

/* How many sequence numbers the call at slot i is behind `now` (a call
 * starts at every published position, padding too: it carries the number
 * of the call after it). */
static inline uint64_t age_at(const struct tbuf *b, uint64_t i, uint64_t now) { return (now - rec_seq(b->recs[i % BUF_SLOTS].head)) & SEQ_MASK; }

/* ---- the stream (recorder_stream.c) ---- */
/* The log lock. Returns 0 without it when this thread already holds it (a
 * signal handler interrupted a write) or, unless `final`, when exit or exec
 * is closing the log (that thread writes this one's buffer). */
HIDDEN int lock_log(int final);
HIDDEN void unlock_log(void);
HIDDEN void fill_header(struct block_header *h, uint32_t tid, uint32_t count);
/* Appends to the stream; with the log lock. Async-signal-safe. */
HIDDEN void log_put(const void *p, size_t n);
/* Connects this image's stream to the converter's socket `sock` (NULL: the
 * one the image was loaded with, for a fork child); 1 when connected. */
HIDDEN int stream_open(const char *sock);
/* In a fork child: the parent's stream and lock are the parent's. */
HIDDEN void stream_forget(void);

/* ---- buffers (recorder_buffer.c) ---- */
/* Appends one call with sequence number `s`; `st` is its stamp, or 0 to
 * take one when due. The whole path; record() in recorder.c takes the
 * common case inline. */
HIDDEN void append_slow(uint64_t s, uint64_t st, int op, const void *ptr, size_t size, uint64_t arg);
/* Writes out a buffer's published records; with the log lock. */
HIDDEN void write_buffer(struct tbuf *b);

/* ---- the registry and threads (recorder_buffer.c) ---- */
/* Every registered buffer; under the log lock. */
extern HIDDEN struct tbuf *rec_registry;
/* Maps and registers this thread's buffer (its first call); NULL if not now. */
HIDDEN struct tbuf *tbuf_new(void);
/* Recording starts: a thread's exit will write its buffer. */
HIDDEN void threads_start(void);
/* In a fork child: only the forking thread's buffer is left, emptied. */
HIDDEN void threads_after_fork(void);

/* ---- process (recorder_process.c), for recorder_exec.c too ---- */
/* Exit, _exit and exec: writes every thread's buffer; later calls are not written. */
HIDDEN void recorder_flush_final(void);
/* An exec failed: recording resumes. */
HIDDEN void recorder_exec_failed(void);

/* ---- the per-call path ---- */

/* The next sequence number. While the process has one thread, a plain
 * load and store: an atomic add is a full barrier on x86-64 and cost about
 * 40% of the recorder's time per call (4 of 10 ns). `rec_threaded` is set
 * before any second thread can take a number: by pthread_create
 * (recorder_buffer.c) before the thread exists; for threads started some
 * other way (C11 thrd_create, glibc's helper threads, a raw clone) by the
 * thread's first call, which leaves a window of a few instructions in which
 * two threads may take the same number once (the converter counts it as
 * late). */
static inline uint64_t take_seq(void) {
  if (atomic_load_explicit(&rec_threaded, memory_order_relaxed)) return atomic_fetch_add_explicit(&rec_seq_next, 1, memory_order_relaxed);
  uint64_t s = atomic_load_explicit(&rec_seq_next, memory_order_relaxed);
  atomic_store_explicit(&rec_seq_next, s + 1, memory_order_relaxed);
  return s;
}

/* A thread's first call (no buffer yet) that is not the image's first
 * thread: from now on numbers are taken atomically. */
static inline void note_thread(void) {
  if (__builtin_expect(!rec_own, 0) && !rec_gone && self() != (uint32_t)rec_image_pid && !atomic_load_explicit(&rec_threaded, memory_order_relaxed)) atomic_store(&rec_threaded, 1);
}

static inline int active(void) { return atomic_load_explicit(&rec_enabled, memory_order_relaxed) && !rec_in_hook; }

#endif

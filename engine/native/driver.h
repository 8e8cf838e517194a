/* The replay driver's shared declarations and its hot helpers.
 *
 * The driver runs a replay plan through whatever malloc the process has (the
 * system's, or one injected with LD_PRELOAD) and reports figures as one JSON
 * line on a dedicated file descriptor, so stdout and stderr stay the
 * allocator's. One concern per file:
 *
 *   replay.c   main: setup, repetitions, the timed region
 *   args.c     command-line parsing
 *   crash.c    crash handlers and alternate signal stacks (main + workers)
 *   counters.c hardware counters (perf_event_open) and RSS from /proc
 *   serial.c   serial mode: every op in recorded order on one thread
 *   serial_model.c  serial mode with pace=recorded or touch=program
 *   threads.c  threads mode: one thread per recorded thread
 *   report.c   JSON output (buffered, streamed, escaped) and die()
 *   plan.c     the plan reader: mapping, validation, expansion (layout in plan.h)
 *   stream.c   the streamed plan: chunks of ops decoded in-line, the clock stopped
 *   pace.c     pace=recorded: the program's work between calls (pace.h)
 *
 * Invariants:
 * - Nothing inside the timed region allocates on the driver's behalf: the
 *   plan is mmapped (streamed: a chunk is decoded into a memfd ring from the
 *   fault handler, its cost taken out of the figures); slot tables, series, pace views, signal stacks and
 *   figures come from mmap or static storage; threads are created (and have installed
 *   their signal stacks) before the clock starts.
 * - The plan was validated (ar_plan_load, ar_plan_scan) before anything
 *   runs, so the loops index without checks; every obj an op names is
 *   < P.nslots, the size of the slot-indexed tables.
 * - A crash in the allocator is reported (signal + op index) from an
 *   async-signal-safe handler on an alternate stack, then the process exits.
 */
#ifndef AR_DRIVER_H
#define AR_DRIVER_H

#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "ar_assert.h"
#include "pace.h"
#include "plan.h"

/* The driver accepts up to this many measured repetitions. */
#define AR_MAX_REPS 1000
/* Upper bound on RSS samples per run (the TS side asks for fewer). */
#define AR_MAX_SERIES 4096

enum touch_mode { TOUCH_NONE, TOUCH_FIRST, TOUCH_ALL, TOUCH_PROGRAM };

/* touch=program writes at most this much of a new block (bytes): programs
 * write what they allocate, but a huge block is often only partly used. */
#define TOUCH_PROGRAM_CAP (1u << 20)

/* Default work units per recorded µs of pace=recorded (the TS side passes
 * its own; this is only the driver's fallback). */
#define PACE_DEFAULT_SCALE 20u

/* ---- args.c ---- */
struct driver_args {
  const char *plan_path;
  int result_fd;
  int threads; /* 1: threads mode, 0: serial */
  enum touch_mode touch;
  int pace;            /* 1: pace=recorded */
  uint64_t pace_scale; /* work units per recorded µs */
  int repeat, warmup;
  unsigned samples;      /* capacity of the RSS series */
  uint64_t sample_every; /* serial mode samples RSS after ops every, 2·every, … */
  int expanded;          /* serial mode on the expanded plan (threads mode always is) */
  int streamed;          /* serial mode streamed even where it would expand */
  uint64_t chunk_ops;    /* streamed: ops per chunk, a multiple of AR_CHUNK_QUANTUM */
  uint64_t expand_max;   /* auto: a plan whose expanded ops take at most this many bytes is expanded */
};

/* Streamed plans: chunk sizes keep both the ops and the pace values of a
 * chunk whole pages (24·1024 and 4·1024 bytes are multiples of 4 KiB). */
#define AR_CHUNK_QUANTUM 1024u
#define AR_CHUNK_OPS_DEFAULT 65536u /* 1.5 MiB of ops: a refill every 65,536 ops */
/* Up to this many bytes of expanded ops (and at most an eighth of the
 * machine's memory) a serial plan is expanded rather than streamed: 2.4M
 * to 2.8M ops, so the short traces of the demo and the tests expand as
 * they always did. Beyond it, expanding costs more than replaying: on
 * random-mixed 40M (--repeat 1 --warmup 0) the expanded driver took
 * 2.3-5.3 s and 1.5 GiB for a timed region of 0.4 s, the streamed one about
 * 1.5 s and 13 MiB, the timed region the same. */
#define AR_EXPAND_MAX_DEFAULT ((uint64_t)64 << 20)

/* Fills `a` from argv; calls die() on anything it does not understand. */
void args_parse(int argc, char **argv, struct driver_args *a);

/* ---- report.c ---- */
/* The result descriptor; -1 until args are parsed (die() then uses stderr). */
extern int g_result_fd;

/* Appends formatted text to the output buffer, flushing it when full. */
void out_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends `s` as a JSON string literal (quoted, escaped). */
void out_json_str(const char *s);
/* Writes what is buffered to the result descriptor. */
void out_flush(void);
/* Reports {"status":"failed","error":"what: detail"} and exits with status 3. */
void die(const char *what, const char *detail) __attribute__((noreturn));

/* ---- crash.c ---- */
extern __thread uint64_t tl_op; /* index of the op this thread is running */
extern atomic_int g_phase;      /* 0 setup, 1 warm-up, 2 measured */

/* Installs the crash handlers and the main thread's alternate stack. */
void crash_install(void);
/* Maps one alternate stack per worker thread (before any timing). */
void crash_reserve_worker_stacks(uint32_t workers);
/* Run by worker `t` first thing: switch to its own alternate stack. */
void crash_enter_worker(uint32_t t);

/* ---- clocks (replay.c's repetitions, stream.c's refills) ---- */
static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t tv_us(struct timeval tv) { return (uint64_t)tv.tv_sec * 1000000ull + (uint64_t)tv.tv_usec; }

/* ---- counters.c ---- */
struct perf_counters {
  int instructions, cycles; /* perf_event fds, -1 when unavailable */
};

void counters_open(struct perf_counters *pc, int enabled);
void counters_start(const struct perf_counters *pc);
void counters_stop(const struct perf_counters *pc);
/* Between start and stop: the counters held while a streamed plan refills (stream.c). */
void counters_pause(void);
void counters_resume(void);
/* The count since the last start, or -1 without a counter. */
int64_t counter_read(int fd);
/* Resident set in KiB from /proc/self/statm, read without allocating. */
uint64_t rss_kib(void);
/* The process's peak resident set (VmHWM) in KiB, from /proc/self/status.
 * Unlike getrusage's ru_maxrss, it is this program's alone: ru_maxrss keeps
 * the peak of the process image before exec (a fork of a large parent). */
uint64_t hwm_kib(void);

/* ---- the run (replay.c) ---- */
extern struct ar_plan P;
extern void **slots;           /* object id -> pointer */
extern enum touch_mode touch;
extern int pace; /* pace=recorded asked for */

/* Pacing runs only when asked for and the plan has recorded time: a trace
 * without time (generated, imported) replays exactly as pace=none. */
static inline int paced(void) { return pace && P.pace_ns != NULL; }

struct checks {
  uint64_t nulls, misaligned, short_usable, leaked, double_freed;
};
extern struct checks chk;

/* ---- stream.c ---- */
/* Maps and validates a plan and prepares its window (serial mode); 0 when
 * the plan is better expanded (under valgrind, no longer than one chunk,
 * or its expanded ops no larger than `expand_max` bytes), unless `force`. */
int stream_open(const char *path, uint64_t chunk_ops, uint64_t expand_max, int force);
/* Before a repetition's clock starts: the first chunk in place. */
void stream_rewind(void);
/* The slots of the objects the trace never ends, in the order of their ids
 * (ar_plan_scan found them), as the expanded form frees them. */
uint64_t stream_leftovers(const uint32_t **slots);
/* From the SIGSEGV handler: 1 when `addr` is the replay's next chunk, now in place. */
int stream_wait(const void *addr);
/* What the refills have cost so far, wall ns and CPU µs (taken out of the figures). */
void stream_refill_cost(uint64_t *ns, uint64_t *user_us, uint64_t *sys_us);
/* Appends the plan's form and window figures to the result line. */
void stream_report(void);

/* ---- serial.c ---- */
struct series {
  uint64_t *op, *rss; /* mmapped, `cap` entries each */
  unsigned n, cap;
};
extern struct series g_series;

void series_reserve(unsigned cap);
/* One repetition in serial mode; `full` runs the costly checks (untimed). */
void serial_run(int full, uint64_t sample_every);

/* ---- serial_model.c ---- */
/* The same, for pace=recorded or touch=program (serial.c's loops stay as
 * they were, so unmodelled instruction counts do not move). */
void serial_run_model(int full, uint64_t sample_every);
/* Whether a repetition runs serial_run_model. */
static inline int modelled(void) { return paced() || touch == TOUCH_PROGRAM; }

/* ---- threads.c ---- */
extern atomic_uint_fast64_t t_double_freed, t_nulls;

/* Maps the tables threads mode needs (before any timing). */
void threads_reserve(void);
/* Creates one worker per recorded thread, each waiting for threads_go().
 * On a pthread_create failure the workers already made are released and
 * joined, and the driver reports a failed run. */
void threads_spawn(void);
/* Releases the workers and joins them: the timed part of a repetition. */
void threads_go_and_join(void);
/* Marks every object as not yet made, for the next repetition. */
void threads_reset(void);

/* ---- one op: shared by both modes ---- */

/* The invariant of the loops (checked in debug builds): an op names only
 * slots the tables hold. */
static inline void assert_op_in_bounds(const struct ar_op *o) {
  ar_assert(o->obj < P.nslots);
  ar_assert(o->op != AR_REALLOC || o->arg < P.nslots);
  ar_assert(o->thread < P.threads);
  (void)o;
}

static inline size_t expected_align(size_t size) {
  /* malloc's guarantee: aligned for any type that fits (max_align_t = 16 here). */
  size_t a = 16;
  while (a > 1 && a > size) a >>= 1;
  return a;
}

/* Calls the allocator for an allocation op; the result is the new block. */
static inline void *alloc_op(const struct ar_op *o, void *old) {
  void *p = NULL;
  switch (o->op) {
  case AR_MALLOC: p = malloc(o->size); break;
  case AR_CALLOC: p = calloc(o->arg, o->size); break;
  case AR_REALLOC: p = realloc(old, o->size); break;
  case AR_MEMALIGN: p = memalign(o->arg, o->size); break;
  case AR_POSIX_MEMALIGN:
    if (posix_memalign(&p, o->arg < sizeof(void *) ? sizeof(void *) : o->arg, o->size) != 0) p = NULL;
    break;
  case AR_ALIGNED_ALLOC: p = aligned_alloc(o->arg, o->size); break;
  case AR_VALLOC: p = valloc(o->size); break;
  case AR_PVALLOC: p = pvalloc(o->size); break;
  default: break;
  }
  return p;
}

static inline uint64_t op_bytes(const struct ar_op *o) {
  return o->op == AR_CALLOC ? o->size * o->arg : o->size;
}

/* touch=program: a program writes the block it gets (first touch: the page
 * faults and cache misses of fresh memory) ... */
static inline void touch_program_new(void *p, uint64_t bytes) {
  memset(p, 1, bytes < TOUCH_PROGRAM_CAP ? (size_t)bytes : TOUCH_PROGRAM_CAP);
}

/* ... and reads it once more before it frees it (the line comes back into
 * cache, as it does when a program inspects what it drops). */
static inline void touch_program_end(void *p) {
  if (p) (void)*(volatile char *)p;
}

#endif

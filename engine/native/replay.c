/* The replay driver: runs a replay plan through whatever malloc this process
 * has (the system's, or one injected with LD_PRELOAD) and reports figures as
 * one JSON object on a dedicated file descriptor, so stdout and stderr stay
 * the allocator's.
 *
 *   replay PLAN --result-fd N [--mode serial|threads] [--touch none|first|all]
 *          [--repeat N] [--warmup N] [--samples N]
 *
 * Invariants:
 * - Nothing inside the timed region allocates on the driver's behalf: the
 *   plan is mmapped, the slot tables and result buffers come from mmap or
 *   static storage, threads are created before the clock starts.
 * - The plan was validated by ar_plan_load, so the loops index without checks.
 * - A crash in the allocator is reported (signal + op index) from an
 *   async-signal-safe handler on an alternate stack, then the process exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/perf_event.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "plan.h"

#define MAX_REPS 1000
#define MAX_SERIES 256

enum touch_mode { TOUCH_NONE, TOUCH_FIRST, TOUCH_ALL };

struct rep_figures {
  uint64_t wall_ns, user_us, sys_us, maxrss_kib, peak_rss_kib, minflt, majflt, nvcsw, nivcsw;
  int64_t instructions, cycles;
};

struct checks {
  uint64_t nulls, misaligned, short_usable, leaked, double_freed;
};

/* ---- state shared with the signal handler ---- */
static int g_result_fd = -1;
static __thread uint64_t tl_op; /* index of the op this thread is running */
static atomic_int g_phase;      /* 0 setup, 1 warm-up, 2 measured */

/* ---- the run ---- */
static struct ar_plan P;
static void **slots;           /* object id -> pointer */
static _Atomic uint8_t *state; /* threads mode: 0 not yet made, 1 live, 2 freed, 3 made NULL */
static enum touch_mode touch = TOUCH_NONE;
static struct checks chk;
static int statm_fd = -1;
static uint64_t series_op[MAX_SERIES], series_rss[MAX_SERIES];
static unsigned series_n;
static uint64_t rss_base_kib; /* RSS before the allocator served anything: the driver's own (plan, tables) */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Resident set in KiB from /proc/self/statm, parsed without allocating. */
static uint64_t rss_kib(void) {
  char buf[128];
  if (statm_fd < 0) return 0;
  ssize_t n = pread(statm_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = 0;
  const char *p = buf;
  while (*p && *p != ' ') p++;
  uint64_t pages = 0;
  while (*p == ' ') p++;
  while (*p >= '0' && *p <= '9') pages = pages * 10 + (uint64_t)(*p++ - '0');
  return pages * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

/* ---- async-signal-safe crash report ---- */
static char *put_u64(char *p, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

static void on_crash(int sig) {
  char buf[160], *p = buf;
  static const char a[] = "{\"status\":\"crashed\",\"signal\":";
  memcpy(p, a, sizeof a - 1), p += sizeof a - 1;
  p = put_u64(p, (uint64_t)sig);
  static const char b[] = ",\"op\":";
  memcpy(p, b, sizeof b - 1), p += sizeof b - 1;
  p = put_u64(p, tl_op);
  static const char c[] = ",\"phase\":";
  memcpy(p, c, sizeof c - 1), p += sizeof c - 1;
  p = put_u64(p, (uint64_t)atomic_load(&g_phase));
  *p++ = '}';
  *p++ = '\n';
  if (g_result_fd >= 0) {
    ssize_t w = write(g_result_fd, buf, (size_t)(p - buf));
    (void)w;
  }
  _exit(128 + sig);
}

static void install_crash_handlers(void) {
  stack_t ss;
  ss.ss_size = 1 << 16;
  ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ss.ss_flags = 0;
  if (ss.ss_sp != MAP_FAILED) sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_crash;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

/* ---- hardware counters (absent on many VMs: then -1) ---- */
static int perf_open(uint64_t config) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.type = PERF_TYPE_HARDWARE;
  a.size = sizeof a;
  a.config = config;
  a.disabled = 1;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  a.inherit = 1;
  return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static int64_t perf_read(int fd) {
  uint64_t v;
  if (fd < 0 || read(fd, &v, sizeof v) != (ssize_t)sizeof v) return -1;
  return (int64_t)v;
}

/* ---- one op ---- */

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

/* Checks a fresh block and touches it as asked. `full` adds the costly
 * malloc_usable_size check (only in an untimed checking repetition). */
static inline void after_alloc(const struct ar_op *o, void *p, int full) {
  uint64_t bytes = op_bytes(o);
  if (!p) {
    if (bytes || o->op != AR_REALLOC) chk.nulls++;
    return;
  }
  size_t align = (o->op >= AR_MEMALIGN && o->op <= AR_ALIGNED_ALLOC) ? (size_t)o->arg
               : (o->op == AR_VALLOC || o->op == AR_PVALLOC) ? 4096 : expected_align((size_t)bytes);
  if (((uintptr_t)p & (align - 1)) != 0) chk.misaligned++;
  if (full && malloc_usable_size(p) < bytes) chk.short_usable++;
  if (touch == TOUCH_FIRST && bytes) *(volatile char *)p = 1;
  else if (touch == TOUCH_ALL && bytes) memset(p, 1, bytes);
}

/* ---- serial mode: every op in recorded global order on this thread ---- */

/* The general path: every op kind, with the checks. */
static inline void serial_op(const struct ar_op *o, int full) {
  if (o->op == AR_FREE) {
    free(slots[o->obj]);
    slots[o->obj] = NULL;
  } else if (o->op != AR_THREAD_EXIT) {
    void *old = NULL;
    if (o->op == AR_REALLOC) {
      old = slots[o->arg];
      slots[o->arg] = NULL;
    }
    void *p = alloc_op(o, old);
    after_alloc(o, p, full);
    if (o->obj) slots[o->obj] = p;
    else if (p) free(p); /* recorded as NULL: do not keep it */
  }
}

/* Ops [from, to): malloc and free, nearly all of any trace, take a path as
 * short as a hand-written loop's; the alignment and usable-size checks run
 * in the untimed checking repetition (`full`). */
static __attribute__((always_inline)) inline void serial_range(uint64_t from, uint64_t to, int full, enum touch_mode tm) {
  const struct ar_op *ops = P.ops;
  for (uint64_t i = from; i < to; i++) {
    const struct ar_op *o = &ops[i];
    tl_op = i;
    if (o->op == AR_FREE) {
      /* Ids are never reused, so the slot need not be cleared: only the
       * objects the trace leaves live are freed after the repetition. */
      free(slots[o->obj]);
    } else if (o->op == AR_MALLOC && !full) {
      void *p = malloc(o->size);
      if (__builtin_expect(p == NULL, 0)) chk.nulls++;
      else if (tm == TOUCH_FIRST && o->size) *(volatile char *)p = 1;
      else if (tm == TOUCH_ALL) memset(p, 1, o->size);
      slots[o->obj] = p;
    } else {
      serial_op(o, full);
    }
  }
}

static __attribute__((always_inline)) inline void run_serial_with(int full, enum touch_mode tm, uint64_t sample_every) {
  uint64_t n = P.nops;
  if (!sample_every) {
    serial_range(0, n, full, tm);
    return;
  }
  /* RSS is sampled between segments, after ops every, 2·every, … */
  for (uint64_t from = 0; from < n;) {
    uint64_t to = from + sample_every + (from == 0);
    if (to > n) to = n;
    serial_range(from, to, full, tm);
    if (to < n && series_n < MAX_SERIES) {
      series_op[series_n] = to - 1;
      series_rss[series_n++] = rss_kib();
    }
    from = to;
  }
}

static void run_serial(int full, uint64_t sample_every) {
  if (full) run_serial_with(1, touch, sample_every);
  else if (touch == TOUCH_NONE) run_serial_with(0, TOUCH_NONE, sample_every);
  else if (touch == TOUCH_FIRST) run_serial_with(0, TOUCH_FIRST, sample_every);
  else run_serial_with(0, TOUCH_ALL, sample_every);
}

/* ---- threads mode: one thread per recorded thread ---- */
static atomic_int start_flag;
static atomic_uint_fast64_t t_double_freed, t_nulls;

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
  while (!atomic_load_explicit(&start_flag, memory_order_acquire)) sched_yield();
  for (uint64_t k = P.thread_start[t]; k < P.thread_start[t + 1]; k++) {
    uint32_t i = P.thread_ops[k];
    const struct ar_op *o = &P.ops[i];
    tl_op = i;
    if (o->op == AR_THREAD_EXIT) break;
    if (o->op == AR_FREE) {
      if (o->obj) free(take(o->obj));
      else free(NULL);
      continue;
    }
    void *old = (o->op == AR_REALLOC && o->arg) ? take((uint32_t)o->arg) : NULL;
    void *p = alloc_op(o, old);
    if (!p && op_bytes(o)) atomic_fetch_add(&t_nulls, 1);
    if (o->obj) {
      slots[o->obj] = p;
      atomic_store_explicit(&state[o->obj], p ? 1 : 3, memory_order_release);
    } else if (p) {
      free(p);
    }
  }
  return NULL;
}

static pthread_t *tids;

/* ---- repetitions ---- */
static uint64_t tv_us(struct timeval tv) { return (uint64_t)tv.tv_sec * 1000000ull + (uint64_t)tv.tv_usec; }

static void die(const char *what, const char *detail) __attribute__((noreturn));

/* Objects the trace never ends (computed once, before any timing). */
static uint32_t *leftover;
static uint64_t nleftover;

static void find_leftovers(void) {
  uint8_t *ended = mmap(NULL, P.nobjects, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ended == MAP_FAILED) die("cannot map leftover table", strerror(errno));
  for (uint64_t i = 0; i < P.nops; i++) {
    const struct ar_op *o = &P.ops[i];
    if (o->op == AR_FREE) ended[o->obj] = 1;
    else if (o->op == AR_REALLOC) ended[o->arg] = 1;
  }
  for (uint64_t id = 1; id < P.nobjects; id++) nleftover += !ended[id];
  leftover = mmap(NULL, (nleftover + 1) * sizeof *leftover, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (leftover == MAP_FAILED) die("cannot map leftover table", strerror(errno));
  for (uint64_t id = 1, k = 0; id < P.nobjects; id++)
    if (!ended[id]) leftover[k++] = (uint32_t)id;
  munmap(ended, P.nobjects);
}

/* After a repetition: free what the trace left live (counted as leaked in
 * the checking repetition), so every repetition starts from an empty heap. */
static void cleanup_leftovers(int count) {
  for (uint64_t k = 0; k < nleftover; k++) {
    uint32_t id = leftover[k];
    if (slots[id]) {
      if (count) chk.leaked++;
      free(slots[id]);
      slots[id] = NULL;
    }
  }
  /* Threads mode's state table restarts for the next repetition. */
  if (state) memset((void *)state, 0, P.nobjects);
}

static void run_rep(int threads, int full, int measured, uint64_t sample_every, struct rep_figures *f,
                    int perf_ins, int perf_cyc) {
  struct rusage r0, r1;
  uint64_t t0, t1;
  if (threads) {
    atomic_store(&start_flag, 0);
    /* pthread_create allocates (stacks, TLS): done before the clock starts. */
    for (uint32_t t = 0; t < P.threads; t++) pthread_create(&tids[t], NULL, worker, (void *)(uintptr_t)t);
  }
  getrusage(RUSAGE_SELF, &r0);
  if (perf_ins >= 0) ioctl(perf_ins, PERF_EVENT_IOC_RESET, 0), ioctl(perf_ins, PERF_EVENT_IOC_ENABLE, 0);
  if (perf_cyc >= 0) ioctl(perf_cyc, PERF_EVENT_IOC_RESET, 0), ioctl(perf_cyc, PERF_EVENT_IOC_ENABLE, 0);
  if (measured) CALLGRIND_TOGGLE_COLLECT;
  t0 = now_ns();
  /* ---- timed region ---- */
  if (threads) {
    atomic_store_explicit(&start_flag, 1, memory_order_release);
    for (uint32_t t = 0; t < P.threads; t++) pthread_join(tids[t], NULL);
  } else {
    run_serial(full, sample_every);
  }
  /* ---- end of timed region ---- */
  t1 = now_ns();
  if (measured) CALLGRIND_TOGGLE_COLLECT;
  if (perf_ins >= 0) ioctl(perf_ins, PERF_EVENT_IOC_DISABLE, 0);
  if (perf_cyc >= 0) ioctl(perf_cyc, PERF_EVENT_IOC_DISABLE, 0);
  getrusage(RUSAGE_SELF, &r1);
  if (!f) return;
  f->wall_ns = t1 - t0;
  f->user_us = tv_us(r1.ru_utime) - tv_us(r0.ru_utime);
  f->sys_us = tv_us(r1.ru_stime) - tv_us(r0.ru_stime);
  f->maxrss_kib = (uint64_t)r1.ru_maxrss;
  f->minflt = (uint64_t)(r1.ru_minflt - r0.ru_minflt);
  f->majflt = (uint64_t)(r1.ru_majflt - r0.ru_majflt);
  f->nvcsw = (uint64_t)(r1.ru_nvcsw - r0.ru_nvcsw);
  f->nivcsw = (uint64_t)(r1.ru_nivcsw - r0.ru_nivcsw);
  f->instructions = perf_read(perf_ins);
  f->cycles = perf_read(perf_cyc);
  uint64_t peak = rss_kib();
  for (unsigned s = 0; s < series_n; s++)
    if (series_rss[s] > peak) peak = series_rss[s];
  f->peak_rss_kib = peak;
}

/* ---- JSON output into static storage ---- */
static char out[1 << 16];
static size_t outn;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out + outn, sizeof out - outn, fmt, ap);
  va_end(ap);
  if (n > 0) outn += (size_t)n < sizeof out - outn ? (size_t)n : sizeof out - outn - 1;
}

static void flush_out(void) {
  size_t off = 0;
  while (off < outn) {
    ssize_t w = write(g_result_fd, out + off, outn - off);
    if (w <= 0) break;
    off += (size_t)w;
  }
}

static void die(const char *what, const char *detail) {
  outn = 0;
  emit("{\"status\":\"failed\",\"error\":\"%s: %s\"}\n", what, detail);
  if (g_result_fd >= 0) flush_out();
  else fprintf(stderr, "replay: %s: %s\n", what, detail);
  _exit(3);
}

int main(int argc, char **argv) {
  /* ASLR off, so the same plan and allocator give the same addresses and
   * instruction counts. Not under valgrind: it would run the re-exec natively. */
  int pers = personality(0xffffffff);
  if (pers != -1 && !(pers & ADDR_NO_RANDOMIZE) && !RUNNING_ON_VALGRIND && !getenv("ALLOCREPLAY_ASLR")) {
    if (personality((unsigned long)pers | ADDR_NO_RANDOMIZE) != -1) execv("/proc/self/exe", argv);
  }
  const char *plan_path = NULL;
  int threads = 0, repeat = 1, warmup = 0, samples = 100;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--result-fd")) g_result_fd = atoi(v), i++;
    else if (!strcmp(a, "--mode")) threads = !strcmp(v, "threads"), i++;
    else if (!strcmp(a, "--touch")) touch = !strcmp(v, "all") ? TOUCH_ALL : !strcmp(v, "first") ? TOUCH_FIRST : TOUCH_NONE, i++;
    else if (!strcmp(a, "--repeat")) repeat = atoi(v), i++;
    else if (!strcmp(a, "--warmup")) warmup = atoi(v), i++;
    else if (!strcmp(a, "--samples")) samples = atoi(v), i++;
    else if (a[0] != '-') plan_path = a;
    else die("bad argument", a);
  }
  if (!plan_path) die("usage", "replay PLAN --result-fd N");
  if (repeat < 1 || repeat > MAX_REPS) die("bad --repeat", "1..1000");
  if (samples < 0 || samples > MAX_SERIES) samples = MAX_SERIES;
  char err[256];
  if (ar_plan_load(plan_path, &P, err, sizeof err)) die("bad plan", err);

  size_t slot_bytes = (size_t)P.nobjects * sizeof(void *);
  slots = mmap(NULL, slot_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (slots == MAP_FAILED) die("cannot map slot table", strerror(errno));
  if (threads) {
    state = mmap(NULL, P.nobjects, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    tids = mmap(NULL, P.threads * sizeof(pthread_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (state == MAP_FAILED || tids == MAP_FAILED) die("cannot map thread tables", strerror(errno));
  }
  find_leftovers();
  statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  install_crash_handlers();
  int perf_ins = RUNNING_ON_VALGRIND ? -1 : perf_open(PERF_COUNT_HW_INSTRUCTIONS);
  int perf_cyc = RUNNING_ON_VALGRIND ? -1 : perf_open(PERF_COUNT_HW_CPU_CYCLES);

  static struct rep_figures figs[MAX_REPS];
  uint64_t every = (!threads && samples) ? (P.nops / (uint64_t)samples) + 1 : 0;
  atomic_store(&g_phase, 1);
  /* The first warm-up repetition (or a dedicated untimed one when there is
   * none) also runs the costly checks, outside any timed figure. */
  /* The baseline is the driver's own memory (plan, slot table, libc) before
   * the allocator has served anything: growth above it is the allocator's. */
  rss_base_kib = rss_kib();
  uint64_t nulls_checked = 0;
  for (int w = 0; w < (warmup > 0 ? warmup : 1); w++) {
    run_rep(threads, w == 0, 0, 0, NULL, -1, -1);
    cleanup_leftovers(w == 0);
    /* NULLs are reported for one repetition (the checking one), not summed over all. */
    if (w == 0) nulls_checked = chk.nulls + atomic_load(&t_nulls);
  }
  atomic_store(&g_phase, 2);
  for (int r = 0; r < repeat; r++) {
    run_rep(threads, 0, 1, r == 0 ? every : 0, &figs[r], perf_ins, perf_cyc);
    cleanup_leftovers(0);
  }
  chk.double_freed = atomic_load(&t_double_freed);
  chk.nulls = nulls_checked;

  emit("{\"status\":\"ok\",\"nops\":%llu,\"threads\":%u,\"mode\":\"%s\",\"reps\":[", (unsigned long long)P.nops, P.threads,
       threads ? "threads" : "serial");
  for (int r = 0; r < repeat; r++) {
    struct rep_figures *f = &figs[r];
    emit("%s{\"wall_ns\":%llu,\"user_us\":%llu,\"sys_us\":%llu,\"maxrss_kib\":%llu,\"peak_rss_kib\":%llu,"
         "\"minflt\":%llu,\"majflt\":%llu,\"nvcsw\":%llu,\"nivcsw\":%llu,\"instructions\":%lld,\"cycles\":%lld}",
         r ? "," : "", (unsigned long long)f->wall_ns, (unsigned long long)f->user_us, (unsigned long long)f->sys_us,
         (unsigned long long)f->maxrss_kib, (unsigned long long)f->peak_rss_kib, (unsigned long long)f->minflt,
         (unsigned long long)f->majflt, (unsigned long long)f->nvcsw, (unsigned long long)f->nivcsw,
         (long long)f->instructions, (long long)f->cycles);
  }
  emit("],\"checks\":{\"nulls\":%llu,\"misaligned\":%llu,\"short_usable\":%llu,\"leaked\":%llu,\"double_freed\":%llu},\"series\":[",
       (unsigned long long)chk.nulls, (unsigned long long)chk.misaligned, (unsigned long long)chk.short_usable,
       (unsigned long long)chk.leaked, (unsigned long long)chk.double_freed);
  for (unsigned s = 0; s < series_n; s++)
    emit("%s[%llu,%llu]", s ? "," : "", (unsigned long long)series_op[s], (unsigned long long)series_rss[s]);
  emit("],\"rss_base_kib\":%llu}\n", (unsigned long long)rss_base_kib);
  flush_out();
  return 0;
}

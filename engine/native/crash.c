/* Crash handling: a signal from the allocator (or from a block it handed
 * out) is reported as {"status":"crashed","signal":S,"op":I,"phase":P} on
 * the result descriptor, then the process exits 128+S.
 *
 * The handler runs on an alternate stack, because the crash may be a stack
 * overflow or a smashed stack: the main thread's is mapped at install time,
 * each worker's is mapped before any timing (crash_reserve_worker_stacks)
 * and switched to by the worker itself, as sigaltstack is per thread. The
 * handler only formats digits into a stack buffer and calls write().
 * A SIGSEGV inside the streamed plan's window is not a crash (stream.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ar_text.h"
#include "driver.h"

#define STACK_BYTES ((size_t)64 * 1024)

__thread uint64_t tl_op;
atomic_int g_phase;

static char *worker_stacks; /* STACK_BYTES per worker, one mapping */
static uint32_t worker_stack_count;

static char *put_str(char *p, const char *s) {
  size_t n = strlen(s);
  memcpy(p, s, n);
  return p + n;
}

static void on_crash(int sig) {
  char line[128], *p = line;
  p = put_str(p, "{\"status\":\"crashed\",\"signal\":");
  p = ar_put_u64(p, (uint64_t)sig);
  p = put_str(p, ",\"op\":");
  p = ar_put_u64(p, tl_op);
  p = put_str(p, ",\"phase\":");
  p = ar_put_u64(p, (uint64_t)atomic_load(&g_phase));
  p = put_str(p, "}\n");
  if (g_result_fd >= 0) {
    /* A newline first ends any half-flushed output line before this one. */
    ssize_t w = write(g_result_fd, "\n", 1);
    w = write(g_result_fd, line, (size_t)(p - line));
    (void)w;
  }
  _exit(128 + sig);
}

/* SIGSEGV first asks the streamed plan whether the replay only ran ahead of
 * its window (stream.c): then it waits and the access is made again. */
static void on_fault(int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  if (sig == SIGSEGV && stream_wait(si->si_addr)) return;
  on_crash(sig);
}

static void use_stack(void *base) {
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = base;
  ss.ss_size = STACK_BYTES;
  sigaltstack(&ss, NULL);
}

void crash_install(void) {
  void *main_stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (main_stack == MAP_FAILED) die("cannot map the signal stack", strerror(errno));
  use_stack(main_stack);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_crash;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  static const int sigs[] = {SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  /* Not reset on delivery: a wait for the window returns and may come again;
   * a crash exits from the handler. */
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_ONSTACK | SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
}

void crash_reserve_worker_stacks(uint32_t workers) {
  /* NORESERVE: a stack costs memory only if a handler ever runs on it. */
  void *m = mmap(NULL, (size_t)workers * STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) die("cannot map the workers' signal stacks", strerror(errno));
  worker_stacks = m;
  worker_stack_count = workers;
}

void crash_enter_worker(uint32_t t) {
  if (t < worker_stack_count) use_stack(worker_stacks + (size_t)t * STACK_BYTES);
}

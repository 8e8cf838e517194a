/* Measurement sources besides the clock: hardware counters through
 * perf_event_open (absent on many VMs and under valgrind: then -1) and the
 * resident set from /proc/self/statm. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "driver.h"

static int perf_open(uint64_t config) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.type = PERF_TYPE_HARDWARE;
  a.size = sizeof a;
  a.config = config;
  a.disabled = 1;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  a.inherit = 1; /* threads mode: the workers' counts too */
  return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

void counters_open(struct perf_counters *pc, int enabled) {
  pc->instructions = enabled ? perf_open(PERF_COUNT_HW_INSTRUCTIONS) : -1;
  pc->cycles = enabled ? perf_open(PERF_COUNT_HW_CPU_CYCLES) : -1;
}

static void control(int fd, unsigned long req) {
  if (fd >= 0) ioctl(fd, req, 0);
}

/* The counters running, for counters_pause; NULL outside start..stop. */
static const struct perf_counters *running;

void counters_start(const struct perf_counters *pc) {
  control(pc->instructions, PERF_EVENT_IOC_RESET), control(pc->instructions, PERF_EVENT_IOC_ENABLE);
  control(pc->cycles, PERF_EVENT_IOC_RESET), control(pc->cycles, PERF_EVENT_IOC_ENABLE);
  running = pc;
}

void counters_stop(const struct perf_counters *pc) {
  running = NULL;
  control(pc->instructions, PERF_EVENT_IOC_DISABLE);
  control(pc->cycles, PERF_EVENT_IOC_DISABLE);
}

void counters_pause(void) {
  if (running) control(running->instructions, PERF_EVENT_IOC_DISABLE), control(running->cycles, PERF_EVENT_IOC_DISABLE);
}

void counters_resume(void) {
  if (running) control(running->instructions, PERF_EVENT_IOC_ENABLE), control(running->cycles, PERF_EVENT_IOC_ENABLE);
}

int64_t counter_read(int fd) {
  uint64_t v;
  if (fd < 0 || read(fd, &v, sizeof v) != (ssize_t)sizeof v) return -1;
  return (int64_t)v;
}

uint64_t rss_kib(void) {
  static int statm_fd = -2;
  if (statm_fd == -2) statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (statm_fd < 0) return 0;
  char text[128];
  ssize_t n = pread(statm_fd, text, sizeof text - 1, 0);
  if (n <= 0) return 0;
  text[n] = 0;
  /* "size resident shared …" in pages: skip the first field. */
  const char *p = text;
  while (*p && *p != ' ') p++;
  while (*p == ' ') p++;
  uint64_t pages = 0;
  while (*p >= '0' && *p <= '9') pages = pages * 10 + (uint64_t)(*p++ - '0');
  return pages * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

uint64_t hwm_kib(void) {
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[4096];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = 0;
  const char *p = strstr(text, "VmHWM:");
  if (!p) return 0;
  p += 6;
  while (*p == ' ' || *p == '\t') p++;
  uint64_t kib = 0;
  while (*p >= '0' && *p <= '9') kib = kib * 10 + (uint64_t)(*p++ - '0');
  return kib;
}

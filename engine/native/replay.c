/* The replay driver's main: setup, repetitions and the timed region. See
 * driver.h for the parts and the invariants they keep. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "valgrind/callgrind.h"

struct rep_figures {
  uint64_t wall_ns, user_us, sys_us, maxrss_kib, peak_rss_kib, minflt, majflt, nvcsw, nivcsw;
  int64_t instructions, cycles;
};

struct ar_plan P;
void **slots;
enum touch_mode touch = TOUCH_NONE;
int pace;
struct checks chk;

static void *map_or_die(size_t bytes, int flags, const char *what) {
  void *m = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
  if (m == MAP_FAILED) die(what, strerror(errno));
  return m;
}

/* Objects the trace never ends, by their slots, in the order of their ids
 * (expanded: computed once, before any timing; streamed: by the plan's scan). */
static const uint32_t *leftover;
static uint64_t nleftover;

static void find_leftovers(void) {
  uint8_t *ended = map_or_die(P.nobjects, 0, "cannot map leftover table");
  for (uint64_t i = 0; i < P.nops; i++) {
    const struct ar_op *o = &P.ops[i];
    if (o->op == AR_FREE) ended[o->obj] = 1;
    else if (o->op == AR_REALLOC) ended[o->arg] = 1;
  }
  for (uint64_t id = 1; id < P.nobjects; id++) nleftover += !ended[id];
  uint32_t *list = map_or_die((nleftover + 1) * sizeof *list, 0, "cannot map leftover table");
  for (uint64_t id = 1, k = 0; id < P.nobjects; id++)
    if (!ended[id]) list[k++] = (uint32_t)id;
  leftover = list;
  munmap(ended, P.nobjects);
}

/* After a repetition: free what the trace left live (counted as leaked in
 * the checking repetition), so every repetition starts from an empty heap. */
static void cleanup_leftovers(int threads, int count) {
  if (paced()) pace_reset(); /* the views hold blocks about to be freed */
  if (P.streamed) nleftover = stream_leftovers(&leftover);
  for (uint64_t k = 0; k < nleftover; k++) {
    uint32_t id = leftover[k];
    if (slots[id]) {
      if (count) chk.leaked++;
      free(slots[id]);
      slots[id] = NULL;
    }
  }
  if (threads) threads_reset();
}

static void run_rep(int threads, int full, int measured, uint64_t sample_every, struct rep_figures *f,
                    const struct perf_counters *pc) {
  struct rusage r0, r1;
  /* Chosen before the clock starts: an indirect call costs the timed region
   * what the direct one did. */
  void (*serial)(int, uint64_t) = modelled() ? serial_run_model : serial_run;
  if (threads) threads_spawn();
  getrusage(RUSAGE_SELF, &r0);
  counters_start(pc);
  if (measured) CALLGRIND_TOGGLE_COLLECT;
  uint64_t t0 = now_ns();
  /* ---- timed region ---- */
  if (threads) threads_go_and_join();
  else serial(full, sample_every);
  /* ---- end of timed region ---- */
  uint64_t t1 = now_ns();
  if (measured) CALLGRIND_TOGGLE_COLLECT;
  counters_stop(pc);
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
  f->instructions = counter_read(pc->instructions);
  f->cycles = counter_read(pc->cycles);
  uint64_t peak = rss_kib();
  for (unsigned s = 0; s < g_series.n; s++)
    if (g_series.rss[s] > peak) peak = g_series.rss[s];
  f->peak_rss_kib = peak;
}

/* One repetition. A streamed plan's first chunk is put in place before it,
 * outside run_rep, whose timed code stays as it was (its instructions are
 * part of every count); what the refills inside it cost (stream.c) is
 * taken out of its wall and CPU times. */
static void rep(int threads, int full, int measured, uint64_t sample_every, struct rep_figures *f, const struct perf_counters *pc) {
  if (!P.streamed) {
    run_rep(threads, full, measured, sample_every, f, pc);
    return;
  }
  stream_rewind();
  uint64_t ns0, user0, sys0, ns1, user1, sys1;
  stream_refill_cost(&ns0, &user0, &sys0);
  run_rep(threads, full, measured, sample_every, f, pc);
  stream_refill_cost(&ns1, &user1, &sys1);
  if (!f) return;
  f->wall_ns -= ns1 - ns0;
  f->user_us -= user1 - user0 < f->user_us ? user1 - user0 : f->user_us;
  f->sys_us -= sys1 - sys0 < f->sys_us ? sys1 - sys0 : f->sys_us;
}

/* An allocator built with statistics may export allocreplay_stats_reset()
 * (tinyslab does): called between the warm-up and the measured
 * repetitions, the counters it writes at exit cover the measured ones only,
 * whatever the warm-up count. Looked up before any timing. */
static void (*stats_reset)(void);

static void find_stats_reset(void) {
  void *sym = dlsym(RTLD_DEFAULT, "allocreplay_stats_reset");
  if (sym) memcpy(&stats_reset, &sym, sizeof sym);
}

static void report_ok(const struct driver_args *a, const struct rep_figures *figs, uint64_t rss_base) {
  out_fmt("{\"status\":\"ok\",\"nops\":%llu,\"threads\":%u,\"mode\":\"%s\",\"paced\":%s,\"reps\":[", (unsigned long long)P.nops, P.threads,
          a->threads ? "threads" : "serial", paced() ? "true" : "false");
  for (int r = 0; r < a->repeat; r++) {
    const struct rep_figures *f = &figs[r];
    out_fmt("%s{\"wall_ns\":%llu,\"user_us\":%llu,\"sys_us\":%llu,\"maxrss_kib\":%llu,\"peak_rss_kib\":%llu,", r ? "," : "",
            (unsigned long long)f->wall_ns, (unsigned long long)f->user_us, (unsigned long long)f->sys_us,
            (unsigned long long)f->maxrss_kib, (unsigned long long)f->peak_rss_kib);
    out_fmt("\"minflt\":%llu,\"majflt\":%llu,\"nvcsw\":%llu,\"nivcsw\":%llu,\"instructions\":%lld,\"cycles\":%lld}",
            (unsigned long long)f->minflt, (unsigned long long)f->majflt, (unsigned long long)f->nvcsw,
            (unsigned long long)f->nivcsw, (long long)f->instructions, (long long)f->cycles);
  }
  out_fmt("],\"checks\":{\"nulls\":%llu,\"misaligned\":%llu,\"short_usable\":%llu,\"leaked\":%llu,\"double_freed\":%llu},\"series\":[",
          (unsigned long long)chk.nulls, (unsigned long long)chk.misaligned, (unsigned long long)chk.short_usable,
          (unsigned long long)chk.leaked, (unsigned long long)chk.double_freed);
  for (unsigned s = 0; s < g_series.n; s++)
    out_fmt("%s[%llu,%llu]", s ? "," : "", (unsigned long long)g_series.op[s], (unsigned long long)g_series.rss[s]);
  out_fmt("],\"rss_base_kib\":%llu,\"vm_hwm_kib\":%llu", (unsigned long long)rss_base, (unsigned long long)hwm_kib());
  stream_report();
  out_fmt("}\n");
  out_flush();
}

int main(int argc, char **argv) {
  /* ASLR off, so the same plan and allocator give the same addresses and
   * instruction counts. Not under valgrind: it would run the re-exec natively. */
  int pers = personality(0xffffffff);
  if (pers != -1 && !(pers & ADDR_NO_RANDOMIZE) && !RUNNING_ON_VALGRIND && !getenv("ALLOCREPLAY_ASLR")) {
    if (personality((unsigned long)pers | ADDR_NO_RANDOMIZE) != -1) execv("/proc/self/exe", argv);
  }
  struct driver_args a;
  args_parse(argc, argv, &a);
  touch = a.touch;
  pace = a.pace;
  pace_scale = a.pace_scale;
  char err[256];
  /* Serial mode streams the plan through a window (stream.c); threads mode
   * walks per-thread lists of the whole plan, so it expands it, as serial
   * mode does under valgrind and for a plan that fits the expand budget. */
  if (a.threads || a.expanded || !stream_open(a.plan_path, a.chunk_ops, a.expand_max, a.streamed))
    if (ar_plan_load(a.plan_path, &P, err, sizeof err)) die("bad plan", err);

  slots = map_or_die((size_t)P.nslots * sizeof(void *), MAP_POPULATE, "cannot map slot table");
  if (a.threads) threads_reserve();
  series_reserve(a.threads ? 0 : a.samples);
  if (paced()) pace_reserve(a.threads);
  struct rep_figures *figs = map_or_die((size_t)a.repeat * sizeof *figs, MAP_POPULATE, "cannot map the figures");
  if (!P.streamed) find_leftovers();
  find_stats_reset();
  crash_install();
  struct perf_counters pc, none = {-1, -1};
  counters_open(&pc, !RUNNING_ON_VALGRIND);

  atomic_store(&g_phase, 1);
  /* The baseline is the driver's own memory (plan, slot table, libc) before
   * the allocator has served anything: growth above it is the allocator's. */
  uint64_t rss_base = rss_kib();
  /* The first warm-up repetition (or a dedicated untimed one when there is
   * none) also runs the costly checks, outside any timed figure. NULLs are
   * reported for that one repetition, not summed over all. */
  uint64_t nulls_checked = 0;
  for (int w = 0; w < (a.warmup > 0 ? a.warmup : 1); w++) {
    rep(a.threads, w == 0, 0, 0, NULL, &none);
    cleanup_leftovers(a.threads, w == 0);
    if (w == 0) nulls_checked = chk.nulls + atomic_load(&t_nulls);
  }
  if (stats_reset) stats_reset();
  atomic_store(&g_phase, 2);
  for (int r = 0; r < a.repeat; r++) {
    rep(a.threads, 0, 1, r == 0 ? a.sample_every : 0, &figs[r], &pc);
    cleanup_leftovers(a.threads, 0);
  }
  chk.double_freed = atomic_load(&t_double_freed);
  chk.nulls = nulls_checked;
  report_ok(&a, figs, rss_base);
  return 0;
}

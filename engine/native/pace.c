/* pace=recorded: the views' tables, mapped before any timing (pace.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "driver.h"

uint32_t *pace_pos;
struct pace_view *pace_views;
uint64_t pace_scale;
static uint32_t nviews;

static void *map_zeroed(size_t bytes, const char *what) {
  void *m = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) die(what, strerror(errno));
  return m;
}

static int makes(uint8_t op) { return op != AR_FREE && op != AR_THREAD_EXIT; }

void pace_reserve(int threads) {
  nviews = threads ? P.threads : 1;
  pace_pos = mmap(NULL, P.nslots * sizeof *pace_pos, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (pace_pos == MAP_FAILED) die("cannot map the pace table", strerror(errno));
  pace_views = map_zeroed(nviews * sizeof *pace_views, "cannot map the pace views");
  /* Objects a worker makes and another ends are never tracked (threads
   * mode: a view is its worker's alone). */
  if (threads) {
    uint16_t *maker = map_zeroed(P.nobjects * sizeof *maker, "cannot map the pace table");
    for (uint64_t i = 0; i < P.nops; i++) {
      const struct ar_op *o = &P.ops[i];
      uint32_t ended = o->op == AR_FREE ? o->obj : o->op == AR_REALLOC ? (uint32_t)o->arg : 0;
      if (ended && maker[ended] != o->thread) pace_pos[ended] = PACE_NEVER;
      if (makes(o->op) && o->obj) maker[o->obj] = o->thread;
    }
    munmap(maker, P.nobjects * sizeof *maker);
  }
  /* Each view is sized to the most tracked objects it can hold at once (a
   * walk of the plan counting them), so its table is small and populated. */
  uint64_t *cap = map_zeroed(nviews * 2 * sizeof *cap, "cannot map the pace views"), *now = cap + nviews;
  /* A streamed plan (serial mode) has no ops to walk here: its one view
   * holds at most the peak live set, the slots less the NULL one. */
  if (P.streamed) cap[0] = P.nslots - 1;
  for (uint64_t i = 0; !P.streamed && i < P.nops; i++) {
    const struct ar_op *o = &P.ops[i];
    uint32_t t = threads ? o->thread : 0;
    uint32_t ended = o->op == AR_FREE ? o->obj : o->op == AR_REALLOC ? (uint32_t)o->arg : 0;
    if (ended && pace_pos[ended] != PACE_NEVER && now[t]) now[t]--;
    if (makes(o->op) && o->obj && pace_pos[o->obj] != PACE_NEVER && ++now[t] > cap[t]) cap[t] = now[t];
  }
  for (uint32_t t = 0; t < nviews; t++) {
    pace_views[t].cap = cap[t];
    pace_views[t].live = mmap(NULL, (cap[t] + 1) * sizeof(struct pace_entry), PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (pace_views[t].live == MAP_FAILED) die("cannot map a pace view", strerror(errno));
  }
  munmap(cap, nviews * 2 * sizeof *cap);
  pace_reset();
}

void pace_reset(void) {
  for (uint32_t t = 0; t < nviews; t++) {
    struct pace_view *v = &pace_views[t];
    for (uint64_t k = 0; k < v->n; k++) pace_pos[v->live[k].obj] = 0;
    v->n = 0;
    v->carry = 0;
    v->sink = 0;
    v->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)t << 32 | t); /* never 0: xorshift would stay there */
  }
}

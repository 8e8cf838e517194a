/* The plan loader: mmap + full validation, so the replay loops can index
 * without bounds checks. See plan.h for the layout and the invariant. */
#define _GNU_SOURCE
#include "plan.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *fail(char *err, int errlen, const char *what, unsigned long long at) {
  snprintf(err, (size_t)errlen, "%s (at %llu)", what, at);
  return err;
}

const char *ar_plan_load(const char *path, struct ar_plan *plan, char *err, int errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(err, errlen, "cannot open plan", 0);
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(struct ar_plan_header)) {
    close(fd);
    return fail(err, errlen, "plan shorter than its header", 0);
  }
  size_t len = (size_t)st.st_size;
  void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return fail(err, errlen, "cannot map plan", 0);
  const struct ar_plan_header *h = map;
  if (memcmp(h->magic, AR_PLAN_MAGIC, 8) != 0) return fail(err, errlen, "not a replay plan (bad magic)", 0);
  if (h->version != AR_PLAN_VERSION) return fail(err, errlen, "unsupported plan version", h->version);
  if (h->threads == 0 || h->threads > AR_PLAN_MAX_THREADS) return fail(err, errlen, "bad thread count", h->threads);
  if (h->nops > (1ull << 32) || h->nobjects > (1ull << 32)) return fail(err, errlen, "plan counts out of range", h->nops);
  if (h->nwide > 2 * h->nops) return fail(err, errlen, "plan counts out of range", h->nwide);
  if (h->ngaps != 0 && h->ngaps != h->nops) return fail(err, errlen, "plan's gaps are neither absent nor one per op", h->ngaps);
  /* Sizes computed in 64 bits cannot overflow with the bounds above. */
  uint64_t recs_end = sizeof *h + h->nops * sizeof(struct ar_plan_rec);
  uint64_t wide_at = (recs_end + 7) & ~7ull;
  uint64_t gaps_at = wide_at + h->nwide * sizeof(uint64_t);
  uint64_t need = gaps_at + h->ngaps * sizeof(uint32_t);
  if (need != len || h->file_bytes != len) return fail(err, errlen, "plan size does not match its header", len);

  /* Expand the records into fixed-width ops, and make room for the thread lists, all before timing. */
  uint64_t list_bytes = h->nops * sizeof(uint32_t) + ((uint64_t)h->threads + 1) * sizeof(uint64_t);
  uint64_t ops_bytes = h->nops * sizeof(struct ar_op);
  uint64_t pace_bytes = h->ngaps * sizeof(uint32_t);
  void *mem = mmap(NULL, ops_bytes + list_bytes + pace_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (mem == MAP_FAILED) return fail(err, errlen, "cannot map the plan's ops", ops_bytes + list_bytes + pace_bytes);
  struct ar_op *ops = mem;
  uint64_t *tstart = (void *)((char *)mem + ops_bytes);
  uint32_t *tops = (void *)(tstart + h->threads + 1);
  const struct ar_plan_rec *recs = (const void *)(h + 1);
  const uint64_t *wide = (const void *)((const char *)map + wide_at);
  uint64_t w = 0;
  for (uint64_t i = 0; i < h->nops; i++) {
    const struct ar_plan_rec *r = &recs[i];
    struct ar_op *o = &ops[i];
    o->op = r->op;
    o->thread = r->thread;
    o->obj = r->obj;
    if (r->aux & AR_REC_WIDE_SIZE) {
      if (w >= h->nwide) return fail(err, errlen, "wide values run out", i);
      o->size = wide[w++];
    } else {
      o->size = r->size;
    }
    if (r->op == AR_CALLOC || r->op == AR_REALLOC) {
      if (w >= h->nwide) return fail(err, errlen, "wide values run out", i);
      o->arg = wide[w++];
    } else if (r->op == AR_MEMALIGN || r->op == AR_POSIX_MEMALIGN || r->op == AR_ALIGNED_ALLOC) {
      o->arg = 1ull << (r->aux & AR_REC_ALIGN_MASK);
    } else {
      o->arg = 0;
    }
  }
  if (w != h->nwide) return fail(err, errlen, "wide values left over", w);
  for (uint64_t i = 0; i < h->nops; i++) {
    const struct ar_op *o = &ops[i];
    if (o->op < AR_MALLOC || o->op > AR_THREAD_EXIT) return fail(err, errlen, "unknown op code", i);
    if (o->thread >= h->threads) return fail(err, errlen, "thread index out of range", i);
    if (o->obj >= h->nobjects) return fail(err, errlen, "object id out of range", i);
    if (o->op == AR_REALLOC && o->arg >= h->nobjects) return fail(err, errlen, "realloc of an object id out of range", i);
    if ((o->op == AR_MEMALIGN || o->op == AR_POSIX_MEMALIGN || o->op == AR_ALIGNED_ALLOC) &&
        (o->arg == 0 || (o->arg & (o->arg - 1)) != 0))
      return fail(err, errlen, "alignment is not a power of two", i);
    tstart[o->thread + 1]++;
  }
  /* Counts to starts, then each thread's ops in global order. */
  for (uint32_t t = 0; t < h->threads; t++) tstart[t + 1] += tstart[t];
  for (uint64_t i = 0; i < h->nops; i++) tops[tstart[ops[i].thread]++] = (uint32_t)i;
  for (uint32_t t = h->threads; t > 0; t--) tstart[t] = tstart[t - 1];
  tstart[0] = 0;
  plan->pace_ns = NULL;
  if (h->ngaps) {
    /* Each stamped gap, spread evenly over the ops since the previous stamp
     * (the remainder one ns each to the first of them): the total is kept
     * exactly, and the ops after the last stamp get none. */
    uint32_t *pace = (void *)(tops + h->nops);
    const uint32_t *gap = (const void *)((const char *)map + gaps_at);
    uint64_t from = 0;
    for (uint64_t i = 0; i < h->nops; i++) {
      if (!gap[i]) continue;
      uint64_t span = i + 1 - from, each = gap[i] / span, rest = gap[i] % span;
      for (uint64_t k = from; k <= i; k++) pace[k] = (uint32_t)(each + (k - from < rest));
      from = i + 1;
    }
    plan->pace_ns = pace;
  }
  plan->h = NULL; /* the file is unmapped once expanded */
  plan->ops = ops;
  plan->thread_ops = tops;
  plan->thread_start = tstart;
  plan->nops = h->nops;
  plan->nobjects = h->nobjects;
  plan->threads = h->threads;
  munmap(map, len);
  return NULL;
}

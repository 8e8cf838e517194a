/* The plan reader: mmap, header checks, full validation, and the expanded
 * form, so the replay loops can index without bounds checks. See plan.h for
 * the layout and the invariant; stream.c holds the streamed form. */
#define _GNU_SOURCE
#include "plan.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar_assert.h"

static const char *fail(char *err, int errlen, const char *what, unsigned long long at) {
  snprintf(err, (size_t)errlen, "%s (at %llu)", what, at);
  return err;
}

const char *ar_plan_open(const char *path, struct ar_plan_file *f, char *err, int errlen) {
  memset(f, 0, sizeof *f);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(err, errlen, "cannot open plan", 0);
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(struct ar_plan_header)) {
    close(fd);
    return fail(err, errlen, "plan shorter than its header", 0);
  }
  size_t len = (size_t)st.st_size;
  void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return fail(err, errlen, "cannot map plan", 0);
  /* Read front to back once per pass; pages behind are dropped (ar_plan_drop). */
  madvise(map, len, MADV_SEQUENTIAL);
  const struct ar_plan_header *h = map;
  f->map = map;
  f->len = len;
  if (memcmp(h->magic, AR_PLAN_MAGIC, 8) != 0) return fail(err, errlen, "not a replay plan (bad magic)", 0);
  if (h->version != AR_PLAN_VERSION) return fail(err, errlen, "unsupported plan version", h->version);
  if (h->threads == 0 || h->threads > AR_PLAN_MAX_THREADS) return fail(err, errlen, "bad thread count", h->threads);
  if (h->nops > (1ull << 32) || h->nobjects > (1ull << 32)) return fail(err, errlen, "plan counts out of range", h->nops);
  if (h->nwide > 2 * h->nops) return fail(err, errlen, "plan counts out of range", h->nwide);
  if (h->ngaps != 0 && h->ngaps != h->nops) return fail(err, errlen, "plan's gaps are neither absent nor one per op", h->ngaps);
  /* Sizes computed in 64 bits cannot overflow with the bounds above. */
  const struct ar_plan_sections at = ar_plan_sections(h->nops, h->ngaps, h->nslot_ops, h->nwide);
  if (h->nslot_ops != 0 && (h->nslot_ops != h->nops || h->nops >= AR_PLAN_SLOT_MAX_OPS))
    return fail(err, errlen, "plan's slots are neither absent nor one per op", h->nslot_ops);
  /* At most one slot per object, so the slot-indexed tables are no larger than the id-indexed ones. */
  if (h->nslot_ops != 0 && (h->nslots == 0 || h->nslots > h->nobjects)) return fail(err, errlen, "plan's slot count out of range", h->nslots);
  if (at.end != len || h->file_bytes != len) return fail(err, errlen, "plan size does not match its header", len);
  f->h = h;
  f->recs = (const void *)((const char *)map + at.recs);
  f->wide = (const void *)((const char *)map + at.wide);
  f->gap = h->ngaps ? (const void *)((const char *)map + at.gap) : NULL;
  f->slot = h->nslot_ops ? (const void *)((const char *)map + at.slot) : NULL;
  return NULL;
}

/* An expanded op's fields against the header (the invariant of plan.h). */
static const char *check_op(const struct ar_plan_header *h, const struct ar_op *o) {
  if (o->op < AR_MALLOC || o->op > AR_THREAD_EXIT) return "unknown op code";
  if (o->thread >= h->threads) return "thread index out of range";
  if (o->obj >= h->nobjects) return "object id out of range";
  if (o->op == AR_REALLOC && o->arg >= h->nobjects) return "realloc of an object id out of range";
  if ((o->op == AR_MEMALIGN || o->op == AR_POSIX_MEMALIGN || o->op == AR_ALIGNED_ALLOC) && (o->arg == 0 || (o->arg & (o->arg - 1)) != 0))
    return "alignment is not a power of two";
  return NULL;
}

/* Wide values record i takes. */
static uint64_t wide_of(const struct ar_plan_rec *r) {
  return !!(r->aux & AR_REC_WIDE_SIZE) + (r->op == AR_CALLOC || r->op == AR_REALLOC);
}

static uint64_t page_down(uint64_t x) { return x & ~(uint64_t)4095; }

void ar_plan_drop(const struct ar_plan_file *f, uint64_t recs, uint64_t wide, uint64_t gaps, uint64_t slots) {
  const char *base = f->map;
  const char *ends[4] = {(const char *)(f->recs + recs), (const char *)(f->wide + wide), f->gap ? (const char *)(f->gap + gaps) : NULL,
                         f->slot ? (const char *)(f->slot + slots) : NULL};
  const char *starts[4] = {(const char *)f->recs, (const char *)f->wide, (const char *)f->gap, (const char *)f->slot};
  for (int k = 0; k < 4; k++) {
    if (!ends[k]) continue;
    uint64_t from = page_down((uint64_t)(starts[k] - base) + 4095), to = page_down((uint64_t)(ends[k] - base));
    if (to > from) madvise((char *)base + from, to - from, MADV_DONTNEED);
  }
}

/* Moves a[i] down the max-heap a[0..n) to its place. */
static void sift_down(uint64_t *a, uint64_t i, uint64_t n) {
  for (uint64_t j; (j = 2 * i + 1) < n; i = j) {
    if (j + 1 < n && a[j + 1] > a[j]) j++;
    if (a[i] >= a[j]) return;
    uint64_t t = a[i];
    a[i] = a[j], a[j] = t;
  }
}

/* Sorts a[0..n) ascending in place (heapsort: no memory of its own, so the
 * allocator under test serves nothing for the driver before the replay). */
static void sort_u64(uint64_t *a, uint64_t n) {
  for (uint64_t k = n / 2; k-- > 0;) sift_down(a, k, n);
  for (uint64_t end = n; end-- > 1;) {
    uint64_t t = a[0];
    a[0] = a[end], a[end] = t;
    sift_down(a, 0, end);
  }
}

/* Records per stretch between drops of the pages read (scan). */
#define SCAN_STRETCH (1u << 16)

/* One op's slot against the objects it ends and makes: `held` is the
 * object in each slot (0: free). NULL, or what is wrong. */
static const char *check_slot(uint32_t *held, uint32_t nslots, uint32_t slot, uint64_t ended, uint64_t made) {
  if (slot >= nslots) return "slot out of range";
  if (!ended && !made) return slot ? "slot for an op without an object" : NULL;
  if (!slot) return "object in the NULL slot";
  if (ended) {
    if (held[slot] != ended) return "end of an object not in its slot";
    held[slot] = 0;
  }
  if (made) {
    if (held[slot]) return "object made into a taken slot";
    held[slot] = (uint32_t)made;
  }
  return NULL;
}

const char *ar_plan_scan(const struct ar_plan_file *f, struct ar_plan_scan *s, char *err, int errlen) {
  const struct ar_plan_header *h = f->h;
  memset(s, 0, sizeof *s);
  if (!f->slot) return fail(err, errlen, "plan has no slots to stream", h->nops);
  /* One bit per object id: live or not; and the object each slot holds (ids
   * fit 32 bits: ar_plan_open). NORESERVE: pages only where ids and slots are. */
  uint64_t words = h->nobjects / 64 + 1;
  size_t live_bytes = words * 8, held_bytes = (size_t)h->nslots * sizeof(uint32_t);
  uint64_t *live = mmap(NULL, live_bytes + held_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (live == MAP_FAILED) return fail(err, errlen, "cannot map the live set", live_bytes + held_bytes);
  uint32_t *held = (uint32_t *)(live + words);
  uint64_t w = 0, now = 0, peak = 0;
  const char *bad = NULL;
  uint64_t i = 0;
  for (; i < h->nops; i++) {
    const struct ar_plan_rec *r = &f->recs[i];
    if (w + wide_of(r) > h->nwide) {
      bad = "wide values run out";
      break;
    }
    struct ar_op o;
    ar_rec_expand(f, i, &w, &o);
    if ((bad = check_op(h, &o))) break;
    /* The live set, which stream.c replays by slots: every object a free or
     * realloc ends is live, and none is made twice (the planner writes no
     * other plan; the expanded form leaves such a plan to the allocator). */
    uint64_t ended = o.op == AR_FREE ? o.obj : o.op == AR_REALLOC ? o.arg : 0;
    uint64_t made = o.op != AR_FREE && o.op != AR_THREAD_EXIT ? o.obj : 0;
    if (ended) {
      if (!(live[ended / 64] >> (ended % 64) & 1)) {
        bad = "end of an object that is not live";
        break;
      }
      live[ended / 64] &= ~(1ull << (ended % 64));
      now--;
    }
    if (made) {
      if (live[made / 64] >> (made % 64) & 1) {
        bad = "object made while it is live";
        break;
      }
      live[made / 64] |= 1ull << (made % 64);
      if (++now > peak) peak = now;
    }
    if ((bad = check_slot(held, h->nslots, f->slot[i], ended, made))) break;
    if ((i + 1) % SCAN_STRETCH == 0) ar_plan_drop(f, i + 1, w, 0, i + 1);
  }
  if (!bad && w != h->nwide) bad = "wide values left over", i = w;
  if (!bad && peak + 1 != h->nslots) bad = "slot count is not the peak live set + 1", i = h->nslots;
  if (bad) {
    munmap(live, live_bytes + held_bytes);
    return fail(err, errlen, bad, i);
  }
  ar_plan_drop(f, h->nops, h->nwide, 0, h->nops);
  s->peak_live = peak;
  s->nleftover = now;
  /* The leftovers' slots in the order of their ids (the expanded form frees
   * them in that order): (id, slot) pairs, sorted. */
  size_t pairs_bytes = (now + 1) * sizeof(uint64_t);
  uint64_t *pairs = mmap(NULL, pairs_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  s->leftover = mmap(NULL, (now + 1) * sizeof *s->leftover, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pairs == MAP_FAILED || s->leftover == MAP_FAILED) {
    munmap(live, live_bytes + held_bytes);
    return fail(err, errlen, "cannot map the leftover list", now);
  }
  uint64_t k = 0;
  for (uint32_t slot = 1; slot < h->nslots; slot++)
    if (held[slot]) {
      ar_assert(k < now); /* a held slot's object is live: check_slot and the bitmap move together */
      pairs[k++] = (uint64_t)held[slot] << 32 | slot;
    }
  ar_assert(k == now);
  munmap(live, live_bytes + held_bytes);
  sort_u64(pairs, now);
  for (k = 0; k < now; k++) s->leftover[k] = (uint32_t)pairs[k];
  munmap(pairs, pairs_bytes);
  return NULL;
}

const char *ar_plan_load(const char *path, struct ar_plan *plan, char *err, int errlen) {
  struct ar_plan_file f;
  if (ar_plan_open(path, &f, err, errlen)) {
    if (f.map) munmap(f.map, f.len);
    return err;
  }
  const struct ar_plan_header *h = f.h;
  /* Expand the records into fixed-width ops, and make room for the thread lists, all before timing. */
  uint64_t list_bytes = h->nops * sizeof(uint32_t) + ((uint64_t)h->threads + 1) * sizeof(uint64_t);
  uint64_t ops_bytes = h->nops * sizeof(struct ar_op);
  uint64_t pace_bytes = h->ngaps * sizeof(uint32_t);
  void *mem = mmap(NULL, ops_bytes + list_bytes + pace_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (mem == MAP_FAILED) return fail(err, errlen, "cannot map the plan's ops", ops_bytes + list_bytes + pace_bytes);
  struct ar_op *ops = mem;
  uint64_t *tstart = (void *)((char *)mem + ops_bytes);
  uint32_t *tops = (void *)(tstart + h->threads + 1);
  uint64_t w = 0;
  for (uint64_t i = 0; i < h->nops; i++) {
    if (w + wide_of(&f.recs[i]) > h->nwide) return fail(err, errlen, "wide values run out", i);
    ar_rec_expand(&f, i, &w, &ops[i]);
  }
  if (w != h->nwide) return fail(err, errlen, "wide values left over", w);
  for (uint64_t i = 0; i < h->nops; i++) {
    const struct ar_op *o = &ops[i];
    const char *bad = check_op(h, o);
    if (bad) return fail(err, errlen, bad, i);
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
    const uint32_t *gap = f.gap;
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
  plan->nslots = h->nobjects;
  plan->threads = h->threads;
  plan->streamed = 0;
  munmap(f.map, f.len);
  return NULL;
}

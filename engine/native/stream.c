/* The streamed plan (serial mode): the compact records of plan.h decoded a
 * chunk at a time into fixed-width ops, by the replay's own thread with the
 * clock stopped, so the driver's memory is the live set plus a window, never
 * nops, and the allocator's calls never share the machine with a decoder.
 *
 * The replay loops (serial.c, serial_model.c) run unchanged over P.ops[0 ..
 * nops): P.ops is the base of an address range of nchunks chunks, of which
 * at most three are mapped: the one behind the replay's, its own, and the
 * next. Reaching a chunk not in place faults; crash.c's handler calls
 * stream_wait, which decodes that chunk into a slot of a ring (a memfd of
 * three chunks, reused round after round), maps it read-only at its place,
 * unmaps what is two chunks behind, and returns: the same instruction runs
 * again. The loops never test for the window, so their instructions are
 * those of an expanded plan.
 *
 * What a refill costs is taken out of the repetition's figures: its wall
 * time (the clock read on entering and leaving the handler), its CPU time
 * (RUSAGE_THREAD around it) and, with hardware counters, its instructions
 * and cycles (the counters are paused while it runs). What stays in is the
 * signal's delivery and return, a few microseconds a chunk (a chunk is
 * 65,536 ops, so under 0.1 ns per op), and the cache lines the decode
 * displaced.
 *
 * Before this, a CLONE_VM decoder ran beside the replay and mapped chunks
 * ahead of it. On a 2-core machine with other work that decoder took the
 * second core from the allocator's own threads and the kernel's, and the
 * streamed repetitions were 15-25% slower than expanded ones; in-line the
 * difference is within the noise (the README's replay paragraph has the
 * figures), so long plans stream by default.
 *
 * Ops name slots, not object ids: the planner assigned them (plan.h's
 * slot[]: a made object takes the most recently freed slot, else a new
 * one) and ar_plan_scan checked them against the ids, so decoding an op
 * reads its record, its wide values, its gap and its slot, all front to
 * back, and touches no table of the live set. The same plan always gives
 * the same slots, so every repetition replays the same addresses of the
 * slot table.
 *
 * Under valgrind (exact instruction counts) and for a plan of at most one
 * chunk, the plan is expanded instead (plan.c), as it always was: the
 * driver then maps exactly what it mapped before streaming existed, so the
 * allocator under test sees the same address space and its counts stay
 * bit for bit (a layout-sensitive allocator, e.g. one aligning its segments,
 * counts differently when the driver's mappings move).
 *
 * Invariants: chunks [released, published) are mapped and whole, and there
 * are at most RING of them; the replay's op is in a chunk >= released; a
 * slot is < P.nslots (ar_plan_scan). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ar_assert.h"
#include "driver.h"
#include "valgrind/valgrind.h"

/* Chunks mapped at once: the one behind the replay's (its last op may still
 * be read), the replay's, and the one it faulted on. */
#define RING 3u

static struct {
  struct ar_plan_file f;
  struct ar_plan_scan scan;
  uint64_t chunk_ops, nchunks;
  size_t ops_bytes, pace_bytes; /* per chunk */
  char *ops_base, *pace_base;   /* nchunks chunks each; pace_base NULL without time */
  /* The window's memory: RING chunk slots of a memfd (ops, then pace
   * values), written through ring_view and mapped read-only at the chunk's
   * place in ops_base/pace_base. Chunk c lives in slot c % RING. */
  int ring_fd;
  char *ring_view;
  /* The decoder's position: op, wide[] entry, and the span of the gap that
   * covers the op (pace.h: a stamped gap is spread over the ops since the
   * previous stamp). */
  uint64_t next_op, next_wide, gap_from, gap_stamp;
  uint64_t published, released;
  /* Refills inside repetitions and what they cost, taken out of the figures. */
  uint64_t refills, refill_ns, refill_user_us, refill_sys_us;
} S;

static uint64_t next_stamp(uint64_t j) {
  while (j < S.f.h->nops && !S.f.gap[j]) j++;
  return j;
}

/* pace_ns of op i, for i increasing by one from 0 (plan.h's spreading). */
static uint32_t pace_at(uint64_t i) {
  if (i > S.gap_stamp) {
    S.gap_from = S.gap_stamp + 1;
    S.gap_stamp = next_stamp(i);
  }
  if (S.gap_stamp >= S.f.h->nops) return 0;
  uint64_t g = S.f.gap[S.gap_stamp], span = S.gap_stamp + 1 - S.gap_from;
  return (uint32_t)(g / span + (i - S.gap_from < g % span));
}

static void decoder_reset(void) {
  S.next_op = S.next_wide = 0;
  S.gap_from = 0;
  S.gap_stamp = S.f.gap ? next_stamp(0) : 0;
}

/* Decodes chunk c (the next one) into `ops` and `pace` (NULL without time). */
static void decode_chunk(uint64_t c, struct ar_op *ops, uint32_t *pace) {
  uint64_t from = c * S.chunk_ops, to = from + S.chunk_ops;
  if (to > P.nops) to = P.nops;
  ar_assert(S.next_op == from);
  uint64_t wide_from = S.next_wide;
  for (uint64_t i = from; i < to; i++) {
    struct ar_op *o = &ops[i - from];
    ar_rec_expand(&S.f, i, &S.next_wide, o);
    /* Ids to slots (plan.h): a realloc's new object takes its old one's slot. */
    const uint32_t slot = S.f.slot[i];
    ar_assert(slot < P.nslots);
    if (o->op == AR_REALLOC) o->arg = o->arg ? slot : 0;
    o->obj = o->obj && o->op != AR_THREAD_EXIT ? slot : 0;
    if (pace) pace[i - from] = pace_at(i);
  }
  S.next_op = to;
  /* The records read stay in the page cache, not in this process. */
  ar_plan_drop(&S.f, from, wide_from, from, from);
}

/* Replaces chunks [from, to) by inaccessible, unbacked pages. */
static void unmap_chunks(uint64_t from, uint64_t to) {
  if (to <= from) return;
  mmap(S.ops_base + from * S.ops_bytes, (to - from) * S.ops_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  if (S.pace_base)
    mmap(S.pace_base + from * S.pace_bytes, (to - from) * S.pace_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
}

/* Unmaps every chunk below `keep`, decodes chunk c (the next) into its ring
 * slot and maps that slot, read-only, where the replay reads chunk c. A
 * mapping that fails is the driver's failure, never the allocator's crash. */
static void publish(uint64_t c, uint64_t keep) {
  ar_assert(c == S.published && keep <= c && c + 1 - keep <= RING);
  if (keep > S.released) {
    unmap_chunks(S.released, keep);
    S.released = keep;
  }
  uint64_t slot = c % RING;
  struct ar_op *ops = (struct ar_op *)(S.ring_view + slot * S.ops_bytes);
  uint32_t *pace = S.pace_base ? (uint32_t *)(S.ring_view + RING * S.ops_bytes + slot * S.pace_bytes) : NULL;
  decode_chunk(c, ops, pace);
  const int fl = MAP_SHARED | MAP_FIXED | MAP_POPULATE;
  if ((pace && mmap(S.pace_base + c * S.pace_bytes, S.pace_bytes, PROT_READ, fl, S.ring_fd, (off_t)(RING * S.ops_bytes + slot * S.pace_bytes)) == MAP_FAILED) ||
      mmap(S.ops_base + c * S.ops_bytes, S.ops_bytes, PROT_READ, fl, S.ring_fd, (off_t)(slot * S.ops_bytes)) == MAP_FAILED)
    die("cannot map the plan's window", strerror(errno));
  S.published = c + 1;
}

static void *reserve(size_t bytes, int prot) {
  void *m = mmap(NULL, bytes ? bytes : 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) die("cannot map the plan's window", strerror(errno));
  return m;
}

int stream_open(const char *path, uint64_t chunk_ops, uint64_t expand_max, int force) {
  char err[256];
  if (ar_plan_open(path, &S.f, err, sizeof err)) die("bad plan", err);
  const struct ar_plan_header *h = S.f.h;
  S.nchunks = (h->nops + chunk_ops - 1) / chunk_ops;
  uint64_t expanded_bytes = h->nops * (sizeof(struct ar_op) + (S.f.gap ? sizeof(uint32_t) : 0));
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && expand_max > (uint64_t)pages * (uint64_t)page / 8) expand_max = (uint64_t)pages * (uint64_t)page / 8;
  /* A plan without slots (too long for them: plan.h) cannot stream. */
  if (!force && (RUNNING_ON_VALGRIND || S.nchunks <= 1 || expanded_bytes <= expand_max || !S.f.slot)) {
    munmap(S.f.map, S.f.len);
    memset(&S, 0, sizeof S);
    return 0;
  }
  if (ar_plan_scan(&S.f, &S.scan, err, sizeof err)) die("bad plan", err);
  P.h = NULL;
  P.nops = h->nops;
  P.nobjects = h->nobjects;
  P.nslots = h->nslots;
  ar_assert(P.nslots == S.scan.peak_live + 1);
  P.threads = h->threads;
  P.streamed = 1;
  P.thread_ops = NULL;
  P.thread_start = NULL;
  S.chunk_ops = chunk_ops;
  S.ops_bytes = chunk_ops * sizeof(struct ar_op);
  S.pace_bytes = S.f.gap ? chunk_ops * sizeof(uint32_t) : 0;
  S.ops_base = reserve(S.nchunks * S.ops_bytes, PROT_NONE);
  S.pace_base = S.f.gap ? reserve(S.nchunks * S.pace_bytes, PROT_NONE) : NULL;
  P.ops = (const struct ar_op *)S.ops_base;
  P.pace_ns = (const uint32_t *)S.pace_base;
  decoder_reset();
  size_t ring_bytes = RING * (S.ops_bytes + S.pace_bytes);
  S.ring_fd = memfd_create("allocreplay-window", MFD_CLOEXEC);
  if (S.ring_fd < 0 || ftruncate(S.ring_fd, (off_t)ring_bytes) != 0) die("cannot make the plan's window", strerror(errno));
  S.ring_view = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, S.ring_fd, 0);
  if (S.ring_view == MAP_FAILED) die("cannot map the plan's window", strerror(errno));
  return 1;
}

void stream_rewind(void) {
  unmap_chunks(S.released, S.published);
  S.released = S.published = 0;
  decoder_reset();
  tl_op = 0;
  publish(0, 0);
}

uint64_t stream_leftovers(const uint32_t **slots_out) {
  *slots_out = S.scan.leftover;
  return S.scan.nleftover;
}

int stream_wait(const void *addr) {
  if (!S.ops_base) return 0;
  const char *a = addr;
  uint64_t c;
  if (a >= S.ops_base && a < S.ops_base + S.nchunks * S.ops_bytes) c = (uint64_t)(a - S.ops_base) / S.ops_bytes;
  else if (S.pace_base && a >= S.pace_base && a < S.pace_base + S.nchunks * S.pace_bytes) c = (uint64_t)(a - S.pace_base) / S.pace_bytes;
  else return 0;
  /* Only the replay's own next read refills: any other access is a crash. */
  uint64_t cur = tl_op / S.chunk_ops;
  if (c != S.published || c < cur || c > cur + 1) return 0;
  struct rusage r0, r1;
  counters_pause();
  const uint64_t t0 = now_ns();
  getrusage(RUSAGE_THREAD, &r0);
  /* Kept: the replay's chunk and the one before it. */
  publish(c, cur ? cur - 1 : 0);
  getrusage(RUSAGE_THREAD, &r1);
  const uint64_t t1 = now_ns();
  counters_resume();
  S.refills++;
  S.refill_ns += t1 - t0;
  S.refill_user_us += tv_us(r1.ru_utime) - tv_us(r0.ru_utime);
  S.refill_sys_us += tv_us(r1.ru_stime) - tv_us(r0.ru_stime);
  return 1;
}

void stream_refill_cost(uint64_t *ns, uint64_t *user_us, uint64_t *sys_us) {
  *ns = S.refill_ns;
  *user_us = S.refill_user_us;
  *sys_us = S.refill_sys_us;
}

void stream_report(void) {
  if (!P.streamed) {
    out_fmt(",\"plan\":{\"form\":\"expanded\"}");
    return;
  }
  out_fmt(",\"plan\":{\"form\":\"streamed\",\"chunks\":%llu,\"slots\":%llu,\"refills\":%llu,\"refill_ns\":%llu}",
          (unsigned long long)S.nchunks, (unsigned long long)P.nslots, (unsigned long long)S.refills, (unsigned long long)S.refill_ns);
}

/* The streamed plan (serial mode): the compact records of plan.h decoded a
 * chunk at a time into fixed-width ops, ahead of the replay and outside its
 * timing, so the driver's memory is the live set plus a window, never nops.
 *
 * The replay loops (serial.c, serial_model.c) run unchanged over P.ops[0 ..
 * nops): P.ops is the base of an address range of nchunks chunks, of which
 * only a window is mapped. Before a repetition the driver maps the first
 * `lead` chunks itself; while it runs, a decoder maps chunk c + lead once the
 * replay is in chunk c, and unmaps the chunks more than one behind it. The
 * decoder is a CLONE_VM process, not a pthread: the process stays
 * single-threaded for the allocator under test (glibc's malloc takes its
 * lock-free paths only then), its CPU time is not the replay's (getrusage
 * RUSAGE_SELF), and it calls no libc beyond system-call wrappers.
 *
 * A chunk is decoded into a slot of a ring (a memfd of lead + 2 chunks) and
 * only then mapped at its place in P.ops, so the replay sees a chunk whole or
 * not at all; the memory is the ring's, reused round after round. Should the replay ever reach
 * a chunk not yet in place, it faults, and crash.c's handler waits for the
 * decoder (stream_wait) and resumes the same instruction: the loops never
 * test for the window, so their instructions are those of an expanded plan.
 * Such a wait is counted (`stalls` in the output) and its time taken out of
 * the repetition's wall time: the allocator's calls did not wait, the loop
 * between two of them did.
 *
 * Ops name slots, not object ids: the planner assigned them (plan.h's
 * slot[]: a made object takes the most recently freed slot, else a new
 * one) and ar_plan_scan checked them against the ids, so decoding an op
 * reads its record, its wide values, its gap and its slot, all front to
 * back, and touches no table of the live set (a lookup per op in one, as
 * large as the live set, missed the cache and left the decoder behind the
 * replay). The same plan always gives the same slots, so every repetition
 * replays the same addresses of the slot table.
 *
 * Under valgrind (exact instruction counts) and for a plan of at most `lead`
 * chunks, the plan is expanded instead (plan.c), as it always was: the
 * driver then maps exactly what it mapped before streaming existed, so the
 * allocator under test sees the same address space and its counts stay
 * bit for bit (a layout-sensitive allocator, e.g. one aligning its segments,
 * counts differently when the driver's mappings move).
 *
 * Invariants: chunks [released, published) are mapped and whole; the replay's
 * op is in a chunk >= released; a slot is < P.nslots (ar_plan_scan). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ar_assert.h"
#include "driver.h"
#include "valgrind/valgrind.h"

#define DECODER_STACK ((size_t)256 * 1024)
#define RELEASE_BATCH 4u

enum { DEC_IDLE, DEC_GO };

static struct {
  struct ar_plan_file f;
  struct ar_plan_scan scan;
  uint64_t chunk_ops, nchunks, lead;
  size_t ops_bytes, pace_bytes; /* per chunk */
  char *ops_base, *pace_base;   /* nchunks chunks each; pace_base NULL without time */
  /* The window's memory: `ring` chunk slots of a memfd (ops, then pace
   * values), written through ring_view and mapped read-only at the chunk's
   * place in ops_base/pace_base. Chunk c lives in slot c % ring. */
  int ring_fd;
  uint64_t ring;
  char *ring_view;
  /* The decoder's position: op, wide[] entry, and the span of the gap that
   * covers the op (pace.h: a stamped gap is spread over the ops since the
   * previous stamp). */
  uint64_t next_op, next_wide, gap_from, gap_stamp;
  /* Shared with the decoder. */
  _Atomic uint64_t published, released, stalls, stall_ns;
  atomic_int cmd, failed;
  int kick;    /* futex word the decoder naps on; always 0 */
  int decoder; /* a decoder runs (else the whole plan fits the window) */
  const volatile uint64_t *cursor; /* the replay's op index: the main thread's tl_op */
  pid_t parent;
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

/* Decodes chunk c into its ring slot and maps that slot, read-only, where
 * the replay reads chunk c. 0, or -1 when the mapping fails. */
static int publish(uint64_t c) {
  uint64_t slot = c % S.ring;
  ar_assert(c < S.ring || atomic_load(&S.released) > c - S.ring); /* the slot's last chunk is unmapped */
  struct ar_op *ops = (struct ar_op *)(S.ring_view + slot * S.ops_bytes);
  uint32_t *pace = S.pace_base ? (uint32_t *)(S.ring_view + S.ring * S.ops_bytes + slot * S.pace_bytes) : NULL;
  decode_chunk(c, ops, pace);
  const int fl = MAP_SHARED | MAP_FIXED | MAP_POPULATE;
  if (pace && mmap(S.pace_base + c * S.pace_bytes, S.pace_bytes, PROT_READ, fl, S.ring_fd, (off_t)(S.ring * S.ops_bytes + slot * S.pace_bytes)) == MAP_FAILED) return -1;
  if (mmap(S.ops_base + c * S.ops_bytes, S.ops_bytes, PROT_READ, fl, S.ring_fd, (off_t)(slot * S.ops_bytes)) == MAP_FAILED) return -1;
  atomic_store_explicit(&S.published, c + 1, memory_order_release);
  return 0;
}

/* Replaces chunks [from, to) by inaccessible, unbacked pages. */
static void unmap_chunks(uint64_t from, uint64_t to) {
  if (to <= from) return;
  mmap(S.ops_base + from * S.ops_bytes, (to - from) * S.ops_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  if (S.pace_base)
    mmap(S.pace_base + from * S.pace_bytes, (to - from) * S.pace_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
}

/* The decoder sleeps at most `ns`, or until the replay kicks it (a stall). */
static void nap(long ns) {
  struct timespec ts = {0, ns};
  syscall(SYS_futex, &S.kick, FUTEX_WAIT, 0, &ts, NULL, 0);
}

/* The decoder: keeps `lead` chunks ahead of the replay and unmaps what it left behind. */
static int decoder_main(void *unused) {
  (void)unused;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != S.parent) return 0; /* the driver is gone already */
  for (;;) {
    while (atomic_load_explicit(&S.cmd, memory_order_acquire) != DEC_GO) nap(200000);
    for (uint64_t c = atomic_load(&S.published); c < S.nchunks;) {
      uint64_t cur = *S.cursor / S.chunk_ops, rel = atomic_load(&S.released);
      /* One chunk behind the replay's stays: its op may still be read. The
       * others go a few at a time (each unmapping interrupts the replay's
       * core to flush its TLB), and always before their ring slot is reused. */
      if (cur > rel + 1 && (cur > rel + RELEASE_BATCH || c + 1 >= rel + S.ring)) {
        unmap_chunks(rel, cur - 1);
        atomic_store(&S.released, cur - 1);
      }
      if (c >= cur + S.lead) {
        nap(50000);
        continue;
      }
      if (publish(c++)) {
        atomic_store(&S.failed, 1);
        return 1;
      }
    }
    atomic_store_explicit(&S.cmd, DEC_IDLE, memory_order_release);
  }
}

static void *reserve(size_t bytes, int prot) {
  void *m = mmap(NULL, bytes ? bytes : 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) die("cannot map the plan's window", strerror(errno));
  return m;
}

int stream_open(const char *path, uint64_t chunk_ops, uint64_t lead, uint64_t expand_max, int force) {
  char err[256];
  if (ar_plan_open(path, &S.f, err, sizeof err)) die("bad plan", err);
  const struct ar_plan_header *h = S.f.h;
  S.nchunks = (h->nops + chunk_ops - 1) / chunk_ops;
  uint64_t expanded_bytes = h->nops * (sizeof(struct ar_op) + (S.f.gap ? sizeof(uint32_t) : 0));
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && expand_max > (uint64_t)pages * (uint64_t)page / 8) expand_max = (uint64_t)pages * (uint64_t)page / 8;
  /* A plan without slots (too long for them: plan.h) cannot stream. */
  if (!force && (RUNNING_ON_VALGRIND || S.nchunks <= lead || expanded_bytes <= expand_max || !S.f.slot)) {
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
  S.lead = lead;
  S.ops_bytes = chunk_ops * sizeof(struct ar_op);
  S.pace_bytes = S.f.gap ? chunk_ops * sizeof(uint32_t) : 0;
  S.ops_base = reserve(S.nchunks * S.ops_bytes, PROT_NONE);
  S.pace_base = S.f.gap ? reserve(S.nchunks * S.pace_bytes, PROT_NONE) : NULL;
  P.ops = (const struct ar_op *)S.ops_base;
  P.pace_ns = (const uint32_t *)S.pace_base;
  S.cursor = &tl_op;
  decoder_reset();
  /* The slot for chunk c is free once chunk c - ring is unmapped, which the
   * decoder does before it writes c (c < cur + lead and ring = lead + 2 +
   * RELEASE_BATCH keep it so). */
  S.ring = lead + 2 + RELEASE_BATCH;
  if (S.ring > S.nchunks) S.ring = S.nchunks;
  size_t ring_bytes = S.ring * (S.ops_bytes + S.pace_bytes);
  S.ring_fd = memfd_create("allocreplay-window", MFD_CLOEXEC);
  if (S.ring_fd < 0 || ftruncate(S.ring_fd, (off_t)ring_bytes) != 0) die("cannot make the plan's window", strerror(errno));
  S.ring_view = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, S.ring_fd, 0);
  if (S.ring_view == MAP_FAILED) die("cannot map the plan's window", strerror(errno));
  /* A window as long as the plan needs no decoder (forced streaming, as the
   * tests use it to compare the streamed form's counts with the expanded). */
  if (S.nchunks <= lead) return 1;
  char *stack = reserve(DECODER_STACK, PROT_READ | PROT_WRITE);
  S.parent = getpid();
  atomic_store(&S.cmd, DEC_IDLE);
  if (clone(decoder_main, stack + DECODER_STACK, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM, NULL) < 0)
    die("cannot start the plan's decoder", strerror(errno));
  S.decoder = 1;
  return 1;
}

void stream_rewind(void) {
  ar_assert(atomic_load(&S.cmd) == DEC_IDLE);
  unmap_chunks(0, S.nchunks);
  atomic_store(&S.released, 0);
  atomic_store(&S.published, 0);
  decoder_reset();
  tl_op = 0; /* the decoder's cursor: the last repetition's end until the replay starts */
  for (uint64_t c = 0; c < S.lead && c < S.nchunks; c++)
    if (publish(c)) die("cannot map the plan's window", strerror(errno));
  if (S.decoder) atomic_store_explicit(&S.cmd, DEC_GO, memory_order_release);
}

void stream_settle(void) {
  while (S.decoder && atomic_load_explicit(&S.cmd, memory_order_acquire) != DEC_IDLE) {
    if (atomic_load(&S.failed)) die("the plan's decoder failed", "out of memory");
    sched_yield();
  }
  ar_assert(S.next_op == P.nops);
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
  /* Only the replay's own next read waits: any other access is a crash. */
  uint64_t cur = tl_op / S.chunk_ops;
  if (c < cur || c > cur + 1 || getpid() != S.parent) return 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  syscall(SYS_futex, &S.kick, FUTEX_WAKE, 1, NULL, NULL, 0);
  while (atomic_load_explicit(&S.published, memory_order_acquire) <= c) {
    if (atomic_load(&S.failed)) return 0;
    sched_yield();
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  atomic_fetch_add(&S.stalls, 1);
  atomic_fetch_add(&S.stall_ns, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec)));
  return 1;
}

uint64_t stream_stall_ns(void) { return atomic_load(&S.stall_ns); }

void stream_report(void) {
  if (!P.streamed) {
    out_fmt(",\"plan\":{\"form\":\"expanded\"}");
    return;
  }
  out_fmt(",\"plan\":{\"form\":\"streamed\",\"chunks\":%llu,\"slots\":%llu,\"stalls\":%llu,\"stall_ns\":%llu}",
          (unsigned long long)S.nchunks, (unsigned long long)P.nslots,
          (unsigned long long)atomic_load(&S.stalls), (unsigned long long)atomic_load(&S.stall_ns));
}

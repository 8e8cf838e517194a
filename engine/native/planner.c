/* The replay planner: reads a v1 trace (traces/native/trace_in.c checks
 * every rule of traces/FORMAT.md as it goes) and writes its replay plan
 * (plan.h) in one pass, at the speed of reading the file. engine/plan/plan.ts
 * runs it; this is the only writer of plans.
 *
 *   planner TRACE FROM HAS_TIME CHUNK_EVENTS SAMPLES OUT [EXPECT_OPS]
 *
 * FROM is the byte after the trace's header (read and checked by the
 * TypeScript side), HAS_TIME and CHUNK_EVENTS what that header says,
 * SAMPLES the driver's RSS sample points (SERIES_SAMPLES). The plan goes
 * to OUT; what the caller keeps beside it (ops, threads, the live
 * bytes at the driver's RSS sample points, the footer, the checksum
 * computed from the content) is one line of JSON on stdout.
 *
 * Which ops a plan holds: every event but a failed allocation (object 0) —
 * replaying it would only measure a failure path the allocator under test
 * may not share — and a failed realloc (NULL for a non-zero size: the old
 * block lives on); realloc(p, 0) stays. The recorded time before each kept
 * op is the time the clock advanced since the previous kept op (threads'
 * clocks may interleave out of order: it never runs backwards), saturated.
 *
 * Slots (plan.h) are assigned as the reader checks the rules, beside each
 * live object's bytes (traces/native/trace_live.h): a made object takes the
 * most recently freed slot, else the next new one.
 *
 * Two threads: trace_in.c's reader parses, hashes and inflates the next
 * chunk while this one checks the rules of events and writes the plan (on
 * a random-mixed trace of 40M events, 1.0–1.1 s against 1.9–2.0 s on one).
 *
 * Memory: two chunks, the live set (once, with each object's slot) and the
 * sample points. Every section is written in place as its chunk is read:
 * the sections' offsets follow from the op count alone (wide[] comes last),
 * and the op count is EXPECT_OPS, the footer's event count, whenever no
 * event is left out. When the count turns out different (or none was
 * given), the trace is read again laid out for the count the first pass
 * found. The live bytes at the driver's sample points are kept as they go by.
 *
 * Exit: 0; 2 and "input\tMESSAGE\tHINT" on stderr for a trace that breaks
 * a rule; 1 and "failure\tMESSAGE\tHINT" when the plan cannot be written. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "trace_in.h"
#include "trace_out.h"

#define GAP_MAX 0xffffffffull

struct planned {
  uint64_t n, nwide, bytes, nobjects, nslots;
  uint32_t threads;
  uint64_t every;
  unsigned nsamples;
  uint64_t *samples; /* SAMPLES + 2 */
};

static const char *out_path;
static unsigned series_samples;

static void die(const char *kind, int status, const char *msg, const char *hint) {
  fprintf(stderr, "%s\t%s\t%s\n", kind, msg, hint);
  exit(status);
}

static void io_fail(const char *what) {
  char msg[1200];
  snprintf(msg, sizeof msg, "%s: cannot write the plan (%s: %s)", out_path, what, strerror(errno));
  die("failure", 1, msg, "check the cache folder's free space and permissions (ALLOCREPLAY_CACHE)");
}

static void put(int fd, const void *b, size_t n, uint64_t at) {
  const uint8_t *p = b;
  while (n) {
    ssize_t w = pwrite(fd, p, n, (off_t)at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) io_fail("write");
    p += w, n -= (size_t)w, at += (uint64_t)w;
  }
}

static void input_fail(const struct trace_in *t) { die("input", 2, t->err, t->hint ? t->hint : ""); }

static void out_of_memory(void) { die("failure", 1, "the planner is out of memory", "free some memory"); }

/* One pass over the trace into the plan at `out`, laid out for `expect` ops:
 * each section is written in place as its chunk is read (plan.h,
 * ar_plan_sections). Returns 0, or 1 when the trace holds a different number
 * of ops (r->n: the count), whose sections then start elsewhere; writing
 * stops once the count runs past `expect`. */
static int plan_pass(struct trace_in *t, int out, uint64_t expect, struct planned *r) {
  const uint32_t cap = t->chunk_events;
  struct ar_plan_rec *recs = malloc((size_t)cap * sizeof *recs);
  uint64_t *wide = malloc((size_t)cap * 2 * sizeof *wide);
  uint32_t *gaps = malloc((size_t)cap * sizeof *gaps);
  uint32_t *slot = malloc((size_t)cap * sizeof *slot);
  if (!recs || !wide || !gaps || !slot) out_of_memory();
  const int timed = t->has_time, slotted = expect < AR_PLAN_SLOT_MAX_OPS;
  const struct ar_plan_sections at = ar_plan_sections(expect, timed ? expect : 0, slotted ? expect : 0, 0);
  /* The driver samples after op index every, 2·every, … (replay.c); op 0's live bytes come first. */
  const uint64_t every = expect / series_samples + 1;
  int64_t clock = 0, owed = 0;
  uint64_t n = 0, nwide = 0;
  uint64_t *samples = r->samples;
  memset(r, 0, sizeof *r);
  r->samples = samples;
  int got;
  while ((got = trace_in_chunk(t)) > 0) {
    const struct trace_chunk *c = &t->c;
    uint32_t k = 0, x = 0;
    for (uint32_t i = 0; i < c->n; i++) {
      const unsigned o = c->op[i];
      const uint64_t obj = c->object[i], sz = c->size[i];
      if (c->time) {
        const int64_t now = c->time[i];
        if (now > clock) owed += now - clock, clock = now;
      }
      const int alloc = o != TRACE_OP_FREE && o != TRACE_OP_THREAD_EXIT;
      if (obj == 0 && alloc && !(o == TRACE_OP_REALLOC && sz == 0)) continue;
      struct ar_plan_rec *rec = &recs[k];
      uint8_t aux = 0;
      if (sz > 0xffffffffull) {
        aux = AR_REC_WIDE_SIZE;
        wide[x++] = sz;
        rec->size = 0;
      } else rec->size = (uint32_t)sz;
      if (o == TRACE_OP_CALLOC || o == TRACE_OP_REALLOC) wide[x++] = c->arg[i];
      else if (o == TRACE_OP_MEMALIGN || o == TRACE_OP_POSIX_MEMALIGN || o == TRACE_OP_ALIGNED_ALLOC) aux |= (uint8_t)__builtin_ctzll(c->arg[i]); /* a power of two: checked */
      rec->op = (uint8_t)o;
      rec->aux = aux;
      rec->thread = (uint16_t)c->thread[i];
      rec->obj = (uint32_t)obj;
      slot[k] = c->slot[i];
      if (timed) {
        gaps[k] = (uint32_t)((uint64_t)owed < GAP_MAX ? (uint64_t)owed : GAP_MAX);
        owed = 0;
      }
      if ((n + k) % every == 0 && r->nsamples < series_samples + 2) r->samples[r->nsamples++] = c->live_after[i];
      k++;
    }
    if (n + k <= expect) {
      put(out, recs, (size_t)k * sizeof *recs, at.recs + n * sizeof *recs);
      if (timed) put(out, gaps, (size_t)k * sizeof *gaps, at.gap + n * sizeof *gaps);
      if (slotted) put(out, slot, (size_t)k * sizeof *slot, at.slot + n * sizeof *slot);
      put(out, wide, (size_t)x * sizeof *wide, at.wide + nwide * sizeof *wide);
    }
    n += k;
    nwide += x;
  }
  if (got < 0) input_fail(t);
  if (!t->has_footer) {
    char msg[1200];
    snprintf(msg, sizeof msg, "%s: trace is cut short (no footer)", t->path);
    die("input", 2, msg, "replay needs a whole trace; record or generate it again");
  }
  free(recs), free(wide), free(gaps), free(slot);
  r->n = n;
  if (n != expect) return 1;
  /* The padding before wide[] (and the whole of an empty one) as zeros. */
  r->bytes = ar_plan_sections(n, timed ? n : 0, slotted ? n : 0, nwide).end;
  if (ftruncate(out, (off_t)r->bytes)) io_fail("truncate");
  r->nslots = slotted ? t->live.next_slot : 0;
  r->nwide = nwide, r->nobjects = t->live.next_id;
  r->threads = (uint32_t)t->live.threads;
  r->every = every;
  unsigned m = 0;
  for (uint64_t i = every; i < n && m < series_samples; i += every, m++) r->samples[m] = r->samples[i / every];
  r->nsamples = m;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 7 && argc != 8) {
    fprintf(stderr, "usage: planner TRACE FROM HAS_TIME CHUNK_EVENTS SAMPLES OUT [EXPECT_OPS]\n");
    return 64;
  }
  const char *trace = argv[1];
  const uint64_t from = strtoull(argv[2], NULL, 10);
  const int has_time = atoi(argv[3]);
  const uint32_t chunk_events = (uint32_t)strtoul(argv[4], NULL, 10);
  series_samples = (unsigned)strtoul(argv[5], NULL, 10);
  out_path = argv[6];
  uint64_t expect = argc == 8 ? strtoull(argv[7], NULL, 10) : 0;
  if (chunk_events < 1 || chunk_events > CHUNK_EVENTS) die("failure", 1, "planner: CHUNK_EVENTS must be 1 … 65536", "this is a bug of allocreplay");
  const int out = open(out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) io_fail("open");
  struct trace_in t;
  struct planned r = {.samples = calloc(series_samples + 2, sizeof(uint64_t))};
  if (!r.samples) out_of_memory();
  for (;;) {
    if (trace_in_open(&t, trace, from, has_time, chunk_events)) die("failure", 1, t.err, t.hint);
    if (!plan_pass(&t, out, expect, &r)) break;
    trace_in_close(&t);
    if (ftruncate(out, 0)) io_fail("truncate");
    expect = r.n; /* some events were left out (or no count was given): read again, laid out for the count */
  }
  struct ar_plan_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, AR_PLAN_MAGIC, 8);
  h.version = AR_PLAN_VERSION;
  h.threads = r.threads > 1 ? r.threads : 1;
  h.nops = r.n;
  h.nobjects = r.nobjects;
  h.file_bytes = r.bytes;
  h.nwide = r.nwide;
  h.ngaps = has_time ? r.n : 0;
  h.nslots = (uint32_t)r.nslots;
  h.nslot_ops = r.nslots ? (uint32_t)r.n : 0;
  put(out, &h, sizeof h, 0);
  if (close(out)) io_fail("close");
  const struct trace_in_footer *f = &t.footer;
  printf("{\"ops\":%llu,\"threads\":%u,\"liveBytesAt\":[", (unsigned long long)r.n, r.threads);
  for (unsigned i = 0; i < r.nsamples; i++) printf("%s%llu", i ? "," : "", (unsigned long long)r.samples[i]);
  printf("],\"sampleEvery\":%llu,\"footer\":{\"events\":%llu,\"objects\":%llu,\"threads\":%llu,\"peakLiveObjects\":%llu,\"peakLiveBytes\":%llu,\"checksum\":\"%s\"},\"checksum\":\"%s\"}\n",
         (unsigned long long)r.every, (unsigned long long)f->events, (unsigned long long)f->objects, (unsigned long long)f->threads, (unsigned long long)f->peak_live_objects,
         (unsigned long long)f->peak_live_bytes, f->checksum, t.checksum);
  trace_in_close(&t);
  return fflush(stdout) ? 1 : 0;
}

/* Replay plan: the flat binary form of a trace that the driver mmaps and runs
 * without parsing. Written by planner.c (run by engine/plan/plan.ts), read here.
 *
 * Layout on disk (little-endian), compact:
 *   struct ar_plan_header                       (64 bytes)
 *   struct ar_plan_rec recs[nops]               (12 bytes each, global order)
 *   (zero padding to a multiple of 8 bytes)
 *   uint32_t gap[ngaps]                         (optional, ngaps is 0 or nops:
 *                                                the recorded ns between the
 *                                                previous op and this one,
 *                                                saturated at 2^32 − 1)
 *   uint32_t slot[nslot_ops]                    (optional, nslot_ops is 0 or
 *                                                nops; written for every plan
 *                                                of fewer than
 *                                                AR_PLAN_SLOT_MAX_OPS ops: the
 *                                                slot of the object op i makes
 *                                                or ends, see below)
 *   (zero padding to a multiple of 8 bytes)
 *   uint64_t wide[nwide]                        (values too wide for a record,
 *                                                in op order: first the size
 *                                                when AR_REC_WIDE_SIZE is set,
 *                                                then calloc's nmemb or
 *                                                realloc's old object id)
 * The per-op sections come first and wide[] last, so that a planner that
 * knows the op count (the footer's) writes every section in place as it
 * reads, whatever the count of wide values turns out to be
 * (ar_plan_sections: the one rule for where each starts).
 * An aligned allocation's alignment is a power of two: its log2 sits in the
 * record's `aux` byte.
 *
 * Slots are the streamed form's names for objects, dense in 1 .. nslots − 1
 * (nslots: the peak live set + 1; 0 is the NULL slot), assigned in op order
 * by the planner: a made object takes the most recently freed slot, else the
 * next new one; an ended one gives its slot back. slot[i] is the slot of the
 * object a free ends (0 for free(NULL)), of the object an allocation makes,
 * of a realloc's old object (its new one, if any, takes that same slot back
 * at once) or, for realloc(NULL), of its new one; 0 for thread_exit and for
 * an op that names no object. The records keep the trace's ids: the
 * expanded form indexes by id.
 *
 * The driver reads it in one of two ways, both validated in full before
 * anything runs (plan.c):
 * - streamed (serial mode, stream.c): the compact file is mmapped and
 *   decoded into fixed-width struct ar_op (24 bytes each) a chunk at a time,
 *   ahead of the replay and outside its timing, into a window that slides
 *   over the trace; its ops name slot[]'s slots, of a table sized by the
 *   peak live set, so memory follows the live set and the window, never nops.
 * - expanded (threads mode; serial mode under valgrind and for a plan no
 *   longer than one window, so exact counts see the address space they
 *   always saw): every record becomes a struct
 *   ar_op in anonymous memory, with the per-thread op lists the threads mode
 *   walks (thread t's ops are thread_ops[thread_start[t] .. thread_start[t+1]),
 *   in global order). Memory: 24 bytes per op plus 4 for the lists.
 *
 * The recorder stamps the clock only every 64th call, so most gaps are 0 and
 * a stamped op carries the time since the previous stamp. The reader spreads
 * each stamped gap evenly over the ops it covers (the ops after the previous
 * stamp, up to and including this one) into pace_ns[], which pace=recorded
 * turns into program work before each op (pace.h).
 *
 * Invariant the reader enforces before anything runs: every object id is
 * < nobjects, every thread index < threads, every op code known — so a
 * hostile plan can make the driver neither read nor write out of bounds.
 * The streamed form also refuses an end of an object that is not live, a
 * second make of a live one, and slots that do not follow the objects
 * (a slot >= nslots, a make into a taken slot, an end of a slot its object
 * is not in, an nslots that is not the peak live set + 1): no planner writes
 * them, and its slots need them.
 * engine/plan/layout.ts mirrors these constants; test/engine/plan-layout
 * compiles a probe against this header and checks that the two agree.
 */
#ifndef AR_PLAN_H
#define AR_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define AR_PLAN_MAGIC "ARPLAN06"
#define AR_PLAN_VERSION 6u
#define AR_PLAN_MAX_THREADS 65536u
/* slot[] is written for plans of fewer ops: its counts then fit 32 bits. */
#define AR_PLAN_SLOT_MAX_OPS 0xffffffffu

enum ar_opcode {
  AR_MALLOC = 1, AR_CALLOC = 2, AR_REALLOC = 3, AR_FREE = 4, AR_MEMALIGN = 5,
  AR_POSIX_MEMALIGN = 6, AR_ALIGNED_ALLOC = 7, AR_VALLOC = 8, AR_PVALLOC = 9,
  AR_THREAD_EXIT = 10,
};

struct ar_plan_header {
  char magic[8];
  uint32_t version;
  uint32_t threads;
  uint64_t nops;
  uint64_t nobjects;   /* ids are 1..nobjects-1; 0 is NULL */
  uint64_t file_bytes; /* the whole plan's size, for the loader's check */
  uint64_t nwide;      /* entries of wide[] */
  uint64_t ngaps;      /* entries of gap[]: 0 (a trace without time) or nops */
  uint32_t nslots;     /* slots are 1..nslots-1: the peak live set + 1 */
  uint32_t nslot_ops;  /* entries of slot[]: 0 or nops */
};

#define AR_REC_WIDE_SIZE 0x80u  /* aux: the size is the next wide[] value */
#define AR_REC_ALIGN_MASK 0x3fu /* aux: log2 of an aligned allocation's alignment */

struct ar_plan_rec {
  uint8_t op;
  uint8_t aux;
  uint16_t thread;
  uint32_t obj;
  uint32_t size; /* when aux has no AR_REC_WIDE_SIZE */
};

struct ar_op {
  uint8_t op;
  uint8_t pad;
  uint16_t thread;
  uint32_t obj;  /* created (allocations) or ended (free); 0 = NULL */
  uint64_t size; /* bytes (calloc: per element) */
  uint64_t arg;  /* calloc nmemb; alignment; realloc: old object id */
};

_Static_assert(sizeof(struct ar_plan_header) == 64, "plan header is 64 bytes");
_Static_assert(sizeof(struct ar_op) == 24, "plan op is 24 bytes");
_Static_assert(sizeof(struct ar_plan_rec) == 12, "plan record is 12 bytes");

/* Byte offsets of a plan's sections from its header's counts, in the order
 * above; `end` is the file's size. In 64 bits nothing overflows for the
 * counts ar_plan_open accepts (nops ≤ 2^32, nwide ≤ 2·nops). */
struct ar_plan_sections {
  uint64_t recs, gap, slot, wide, end;
};

static inline struct ar_plan_sections ar_plan_sections(uint64_t nops, uint64_t ngaps, uint64_t nslot_ops, uint64_t nwide) {
  struct ar_plan_sections s;
  s.recs = sizeof(struct ar_plan_header);
  s.gap = (s.recs + nops * sizeof(struct ar_plan_rec) + 7) & ~7ull;
  s.slot = s.gap + ngaps * sizeof(uint32_t);
  s.wide = (s.slot + nslot_ops * sizeof(uint32_t) + 7) & ~7ull;
  s.end = s.wide + nwide * sizeof(uint64_t);
  return s;
}

/* The compact plan file as mapped: its header checked against its size. */
struct ar_plan_file {
  void *map;
  size_t len;
  const struct ar_plan_header *h;
  const struct ar_plan_rec *recs;
  const uint64_t *wide;
  const uint32_t *gap;  /* NULL when ngaps is 0 */
  const uint32_t *slot; /* NULL when nslot_ops is 0 */
};

struct ar_plan {
  const struct ar_plan_header *h;
  /* All nops ops (expanded), or the sliding window's address range
   * (streamed: only the chunks around the replay's op are mapped). */
  const struct ar_op *ops;
  const uint32_t *thread_ops;
  const uint64_t *thread_start;
  /* Recorded ns before each op, spread over the ops a stamp covers; NULL
   * when the trace has no time. */
  const uint32_t *pace_ns;
  uint64_t nops, nobjects;
  /* Entries of the tables indexed by an op's obj (slots, pace positions):
   * nobjects when expanded; the peak live set + 1 when streamed. */
  uint64_t nslots;
  uint32_t threads;
  int streamed;
};

/* What a validating pass over a plan found. */
struct ar_plan_scan {
  uint64_t peak_live; /* most objects live at once */
  uint64_t nleftover; /* objects the trace never ends */
  uint32_t *leftover; /* their slots, in ascending order of their ids (mmapped; nleftover + 1 entries) */
};

/* Maps a plan and checks its header against its size. NULL or the error. */
const char *ar_plan_open(const char *path, struct ar_plan_file *f, char *err, int errlen);
/* Maps, validates and expands a plan. Returns NULL and fills `err` on any problem. */
const char *ar_plan_load(const char *path, struct ar_plan *plan, char *err, int errlen);
/* Validates every record of a mapped plan with a slot section (the checks
 * of ar_plan_load, that every object ended is live and none is made twice,
 * and that the slots follow the objects) and counts its live set, reading
 * the file once, front to back. */
const char *ar_plan_scan(const struct ar_plan_file *f, struct ar_plan_scan *s, char *err, int errlen);
/* Drops the file's pages below these entries from the process's memory
 * (they stay in the page cache; a later read maps them again). */
void ar_plan_drop(const struct ar_plan_file *f, uint64_t recs, uint64_t wide, uint64_t gaps, uint64_t slots);

/* Record i as an op with the trace's object ids; `w` is the cursor in wide[]
 * (the values of the records before i). Only for a validated plan. */
static inline void ar_rec_expand(const struct ar_plan_file *f, uint64_t i, uint64_t *w, struct ar_op *o) {
  const struct ar_plan_rec *r = &f->recs[i];
  o->op = r->op;
  o->pad = 0;
  o->thread = r->thread;
  o->obj = r->obj;
  o->size = (r->aux & AR_REC_WIDE_SIZE) ? f->wide[(*w)++] : r->size;
  if (r->op == AR_CALLOC || r->op == AR_REALLOC) o->arg = f->wide[(*w)++];
  else if (r->op == AR_MEMALIGN || r->op == AR_POSIX_MEMALIGN || r->op == AR_ALIGNED_ALLOC) o->arg = 1ull << (r->aux & AR_REC_ALIGN_MASK);
  else o->arg = 0;
}

#endif

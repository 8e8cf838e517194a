/* Replay plan: the flat binary form of a trace that the driver mmaps and runs
 * without parsing. Written by engine/plan/ (TypeScript), read here.
 *
 * Layout on disk (little-endian), compact:
 *   struct ar_plan_header                       (64 bytes)
 *   struct ar_plan_rec recs[nops]               (12 bytes each, global order)
 *   (zero padding to a multiple of 8 bytes)
 *   uint64_t wide[nwide]                        (values too wide for a record,
 *                                                in op order: first the size
 *                                                when AR_REC_WIDE_SIZE is set,
 *                                                then calloc's nmemb or
 *                                                realloc's old object id)
 *   uint32_t gap[ngaps]                         (optional, ngaps is 0 or nops:
 *                                                the recorded ns between the
 *                                                previous op and this one,
 *                                                saturated at 2^32 − 1)
 * An aligned allocation's alignment is a power of two: its log2 sits in the
 * record's `aux` byte.
 *
 * The loader expands the records into struct ar_op ops[nops] (24 bytes each)
 * in anonymous memory before any timing, and derives the per-thread op
 * lists the threads mode walks (thread t's ops are
 * thread_ops[thread_start[t] .. thread_start[t+1]), in global order). So the
 * plan on disk is about 12 bytes per op, the planner's memory O(threads),
 * and the replay loops index plain fixed-width ops.
 *
 * The recorder stamps the clock only every 64th call, so most gaps are 0 and
 * a stamped op carries the time since the previous stamp. The loader spreads
 * each stamped gap evenly over the ops it covers (the ops after the previous
 * stamp, up to and including this one) into pace_ns[], which pace=recorded
 * turns into program work before each op (pace.h).
 *
 * Invariant the loader enforces before anything runs: every object id is
 * < nobjects, every thread index < threads, every op code known — so a
 * hostile plan can make the driver neither read nor write out of bounds.
 * engine/plan/layout.ts mirrors these constants; test/engine/plan-layout
 * compiles a probe against this header and checks that the two agree.
 */
#ifndef AR_PLAN_H
#define AR_PLAN_H

#include <stdint.h>

#define AR_PLAN_MAGIC "ARPLAN04"
#define AR_PLAN_VERSION 4u
#define AR_PLAN_MAX_THREADS 65536u

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
  uint64_t reserved;
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

struct ar_plan {
  const struct ar_plan_header *h;
  const struct ar_op *ops;
  const uint32_t *thread_ops;
  const uint64_t *thread_start;
  /* Recorded ns before each op, spread over the ops a stamp covers; NULL
   * when the trace has no time. */
  const uint32_t *pace_ns;
  uint64_t nops, nobjects;
  uint32_t threads;
};

/* Maps and validates a plan. Returns NULL and fills `err` on any problem. */
const char *ar_plan_load(const char *path, struct ar_plan *plan, char *err, int errlen);

#endif

/* The conversion of one recorded process image (convert.c): the calls of
 * its stream, decoded by the converter (converter.c), put back in sequence
 * order through a reorder window, their pointers turned into the trace's
 * dense ids, and written as v1 events (trace_out.h). The aosp importer
 * (aosp_import.c) hands it calls already in order (conversion_call). It
 * knows nothing of sockets, rings or text, and never exits: it reports
 * running out of memory, and its caller decides. */
#ifndef ALLOCREPLAY_CONVERT_H
#define ALLOCREPLAY_CONVERT_H
#include <stdint.h>

#include "raw_log.h"
#include "trace_out.h"
#include "u64map.h"

/* The reorder window starts at WINDOW records (24 MiB, touched as used) and
 * doubles up to WINDOW_MAX (192 MiB) while a record is missing for long: a
 * thread descheduled in the middle of a call, or of writing its buffer. */
#define WINDOW (1u << 19)
#define WINDOW_MAX (1u << 22)

/* One call as the recorder's slots hold it (raw_log.h); seq cut to SEQ_BITS. */
struct call {
  uint64_t seq, stamp, ptr, size, arg;
  unsigned op;
};

struct slot; /* a call waiting in the window (convert.c) */

struct conversion {
  /* The clocks: the stream's first block header (stamp0, ns0) and its
   * latest (cal_*), set by the stream's reader as blocks come. */
  uint64_t stamp0, ns0, cal_stamp, cal_ns;
  int t0_set;
  double t0;
  uint64_t last_time;  /* ns of the last stamped record */
  struct slot *window; /* reorder window, indexed by sequence number mod wcap */
  uint64_t wcap;
  uint64_t next, max_seq;
  int any;
  /* live: pointer → id and size; big: id → size of the large ones; threads: tid + 1 → dense index. */
  struct u64map live, big, threads;
  uint64_t last_tid, last_th; /* thread_of's last answer (tid + 1; 0 = none) */
  uint64_t next_id, live_objects, live_bytes, peak_objects, peak_bytes, nthreads;
  uint64_t event_threads; /* highest thread index in an event + 1 */
  /* Count as the importers do (set by the caller after conversion_init):
   * free(NULL) is counted, not kept as an event, and a free gives its
   * thread an index only when it ends an object. The recorder keeps
   * free(NULL) (a call the program made, replayed too) and indexes every
   * thread that called. */
  int import;
  uint64_t null_frees, unknown_frees, lost_frees, failed, lost;
  uint64_t late; /* of `lost`: arrived after their number was passed (written twice, or given up on) */
  struct trace_out out;
};

/* Sets up an empty conversion (the trace file is opened by the caller, on
 * `out`, with conversion_to_ns). Returns 0, or -1 when out of memory. */
int conversion_init(struct conversion *c);
/* trace_out's stamp_to_ns for a conversion (`ctx`). */
void conversion_to_ns(void *ctx, uint64_t *stamps, unsigned n);
/* Takes one call of thread `tid`; converts every call now in order.
 * Returns 0, or -1 when out of memory (errno says so). */
int conversion_place(struct conversion *c, const struct call *r, uint32_t tid);
/* Converts one call of thread `tid` at once, for a source that is already
 * in order (an importer's lines): no trip through the window. Returns 0,
 * or -1 when out of memory. */
int conversion_call(struct conversion *c, const struct call *r, uint64_t tid);
/* The stream has ended: converts what waits in the window, skipping holes.
 * Returns 0, or -1 when out of memory. */
int conversion_drain(struct conversion *c);
/* Frees the window and the maps (not `out`). */
void conversion_free(struct conversion *c);

#endif

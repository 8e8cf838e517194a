/* One recorded process image as the converter holds it (converter.c): its
 * stream, its reorder window and the state that turns pointers into the
 * trace's dense ids (convert.c). */
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
#define READ_BUF (1u << 20)
/* A live object's map value: its id above SIZE_BITS, its size below; sizes
 * from SIZE_BIG up are kept exactly in a second (small) map keyed by id. */
#define SIZE_BITS 24
#define SIZE_BIG ((1ull << SIZE_BITS) - 1)

/* One call as the recorder's slots hold it (raw_log.h); seq cut to SEQ_BITS. */
struct call {
  uint64_t seq, stamp, ptr, size, arg;
  unsigned op;
};

struct slot {
  uint64_t seq1; /* sequence number + 1; 0 = empty */
  uint64_t stamp, ptr, size, arg;
  uint32_t tid, op;
};

struct image {
  int fd;
  unsigned serial;
  int started, broken;
  int eof;               /* the socket closed: the image is gone */
  struct ring_ctl *ring; /* shared with the image (raw_log.h), or NULL */
  uint8_t *ring_data;
  uint32_t pid;
  uint64_t stamp0, ns0, cal_stamp, cal_ns;
  int t0_set;
  double t0;
  uint64_t last_time; /* ns of the last stamped record */
  uint8_t *rbuf;
  size_t rlen;
  uint32_t blk_tid, blk_left;
  struct slot *window; /* reorder window, indexed by sequence number mod wcap */
  uint64_t wcap;
  uint64_t next, max_seq;
  int any;
  struct u64map live, big, threads;
  uint64_t last_tid, last_th; /* thread_of's last answer (tid + 1; 0 = none) */
  uint64_t next_id, live_objects, live_bytes, peak_objects, peak_bytes, nthreads;
  uint64_t null_frees, unknown_frees, lost_frees, failed, lost;
  uint64_t late; /* of `lost`: arrived after their number was passed (written twice, or given up on) */
  struct trace_out out;
};

/* Fails the converter with `what` and errno (out of memory, a file). */
void converter_die(const char *what) __attribute__((noreturn));
/* trace_out's stamp_to_ns for an image. */
void image_to_ns(void *ctx, uint64_t *stamps, unsigned n);
/* Takes one call of thread `tid`; converts every call now in order. */
void image_place(struct image *m, const struct call *r, uint32_t tid);
/* The stream has ended: converts what waits in the window, skipping holes. */
void image_drain(struct image *m);

#endif

/* The recorder's stream (traces/native/recorder.c → converter.c), one per
 * process image, little-endian: a sequence of blocks, each a header and
 * `count` records of one thread. The first block of a stream has count 0
 * and carries the process id in `tid`.
 *
 * Each image connects to the converter's Unix socket and sends that first
 * block with a memfd attached (SCM_RIGHTS): a shared ring (struct ring_ctl,
 * then RING_BYTES of data) through which the rest of the stream flows with
 * no system call, so the program only waits when the ring is full. The
 * socket then carries wake-ups (one byte when the converter said it sleeps)
 * and, by closing, the end of the image. Without a memfd the stream goes
 * through the socket itself. */
#ifndef ALLOCREPLAY_RAW_LOG_H
#define ALLOCREPLAY_RAW_LOG_H
#include <stdatomic.h>
#include <stdint.h>

#define BLOCK_MAGIC 0x32425241u /* "ARB2" */

enum { R_MALLOC = 1, R_CALLOC, R_REALLOC, R_FREE, R_MEMALIGN, R_POSIX_MEMALIGN, R_ALIGNED_ALLOC, R_VALLOC, R_PVALLOC, R_THREAD_EXIT };

/* One call, 40 bytes. Records carry a cheap stamp (the TSC on x86-64, else
 * CLOCK_MONOTONIC ns), or 0 when none was taken (the call gets the time of
 * the one before it); every block header pairs a stamp with CLOCK_MONOTONIC
 * ns, from which the converter maps stamps to ns. */
struct rec_t {
  uint64_t seq_op; /* global sequence number << 8 | op */
  uint64_t stamp; /* 0: not taken */
  uint64_t ptr;  /* the result (allocations, realloc), or the freed pointer */
  uint64_t size; /* calloc: bytes per element */
  uint64_t arg;  /* calloc nmemb, alignment, realloc's old pointer */
};
_Static_assert(sizeof(struct rec_t) == 40, "record is 40 bytes");

struct block_header {
  uint32_t magic, tid, count, zero;
  uint64_t stamp, ns; /* a calibration point: the same instant on both clocks */
};
_Static_assert(sizeof(struct block_header) == 32, "block header is 32 bytes");

#define RING_BYTES (32u << 20)
#define RING_CTL_BYTES 4096u

/* The ring's control page. One writer (the image, under its log lock), one
 * reader (the converter); positions count bytes since the start and only
 * grow, so `head - tail` is what is waiting. */
struct ring_ctl {
  _Alignas(64) _Atomic uint64_t head; /* written up to here */
  _Alignas(64) _Atomic uint64_t tail; /* read up to here */
  _Alignas(64) _Atomic int waiting;   /* the reader sleeps until a byte comes on the socket */
};
_Static_assert(sizeof(struct ring_ctl) <= RING_CTL_BYTES, "control page");

#endif

/* The recorder's stream (traces/native/recorder_stream.c → converter.c), one per
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

#define BLOCK_MAGIC 0x33425241u /* "ARB3" */

enum { R_MALLOC = 1, R_CALLOC, R_REALLOC, R_FREE, R_MEMALIGN, R_POSIX_MEMALIGN, R_ALIGNED_ALLOC, R_VALLOC, R_PVALLOC, R_THREAD_EXIT };

/* One call is one 16-byte slot, followed by the extension slots its flags
 * name (most calls are a malloc or free of a small block: one slot):
 *
 *   head: sequence number (low SEQ_BITS) << 24 | size << 8 | flags << 4 | op
 *   word: the result (allocations, realloc), or the freed pointer
 *   X_STAMP_ARG: a slot {stamp, arg}: a stamp was taken, or arg is not 0
 *   X_SIZE:      a slot {size, 0}: size ≥ SIZE_INLINE (head holds SIZE_INLINE)
 *
 * size is calloc's bytes per element; arg calloc's nmemb, the alignment, or
 * realloc's old pointer. Stamps are cheap (the TSC on x86-64, else
 * CLOCK_MONOTONIC ns) and taken on some calls only; a call without one
 * gets the time of the call before it. Every block header pairs a stamp
 * with CLOCK_MONOTONIC ns, from which the converter maps stamps to ns.
 * Op 0 is one slot of padding (skipped): a call's slots never straddle the
 * end of a thread's buffer, so every block holds whole calls. The sequence
 * number is cut to SEQ_BITS; the converter restores it from the number it
 * expects next (its window is far smaller than 2^SEQ_BITS). */
struct rec_t {
  uint64_t head, word;
};
_Static_assert(sizeof(struct rec_t) == 16, "a slot is 16 bytes");

#define SEQ_BITS 40
#define SEQ_MASK ((1ull << SEQ_BITS) - 1)
#define SIZE_INLINE 0xffffu
enum { X_STAMP_ARG = 1, X_SIZE = 2 };
/* Slots of a call with these flags. */
#define REC_SLOTS(flags) (1u + ((flags) & X_STAMP_ARG) + (((flags) & X_SIZE) >> 1))

static inline uint64_t rec_head(uint64_t seq, unsigned op, unsigned flags, uint64_t size) {
  return (seq & SEQ_MASK) << 24 | (size < SIZE_INLINE ? size : SIZE_INLINE) << 8 | (uint64_t)flags << 4 | op;
}
static inline unsigned rec_op(uint64_t head) { return head & 15; }
static inline unsigned rec_flags(uint64_t head) { return (head >> 4) & 15; }
static inline uint64_t rec_seq(uint64_t head) { return head >> 24; }
static inline uint64_t rec_size(uint64_t head) { return (head >> 8) & SIZE_INLINE; }

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

/* Writes the chunks and the footer of a v1 trace (traces/FORMAT.md) from
 * events whose object and arg fields are already encoded relative to the
 * next id. The header is made by the TypeScript side (one definition of its
 * keys) and copied in front verbatim. Memory: one chunk of columns (two
 * with TRACE_OUT_THREAD). */
#ifndef ALLOCREPLAY_TRACE_OUT_H
#define ALLOCREPLAY_TRACE_OUT_H
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <zlib.h>

#include "sha256.h"

/* The format's op codes (traces/FORMAT.md; traces/vocabulary.ts `Op`, which
 * test/traces/opcodes.test.ts holds these to): what an event's `op` is. */
enum {
  TRACE_OP_MALLOC = 1, TRACE_OP_CALLOC = 2, TRACE_OP_REALLOC = 3, TRACE_OP_FREE = 4, TRACE_OP_MEMALIGN = 5,
  TRACE_OP_POSIX_MEMALIGN = 6, TRACE_OP_ALIGNED_ALLOC = 7, TRACE_OP_VALLOC = 8, TRACE_OP_PVALLOC = 9,
  TRACE_OP_THREAD_EXIT = 10,
};

#define CHUNK_EVENTS 65536
/* Values a column may hold: below 2^53 (FORMAT.md, uvarint). */
#define VALUE_MAX ((1ull << 53) - 1)

struct col {
  uint8_t *b;
  size_t len;
};

/* Maps a chunk's recorder stamps to ns since the trace started, in place;
 * called once per chunk, so the latest calibration applies to all of it. */
typedef void (*stamp_to_ns)(void *ctx, uint64_t *stamps, unsigned n);

struct trace_out {
  int fd;
  int failed; /* a write failed: errno kept in `err` */
  int err;
  unsigned n; /* events in the open chunk */
  uint64_t chunks, events;
  uint64_t prev_time; /* ns of the previous event, for the time deltas */
  struct col op, thread, object, size, arg, time;
  uint64_t *stamps; /* the open chunk's raw stamps, mapped to ns at flush */
  uint8_t *zbuf;
  size_t zcap;
  z_stream z;
  struct sha256 hash;
  stamp_to_ns to_ns;
  void *ctx;
  unsigned flags;
  /* TRACE_OUT_THREAD: the chunk handed to `worker` (its columns, swapped
   * out of the six above), and whether it is still being written. */
  struct col job[6];
  unsigned job_n;
  uint64_t job_chunk;
  int busy, stop, threaded;
  pthread_t worker;
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

/* A time earlier than the one before it takes that one's time (stamps of
 * different cores); without it, times are kept as given and a delta may be
 * negative (the column is zigzag, FORMAT.md): an import keeps its dump's. */
#define TRACE_OUT_MONOTONIC 1u
/* Deflate, hash and write each chunk on a thread of the writer's own while
 * the caller makes the next (one chunk in flight: one more set of columns).
 * The file is the same byte for byte. */
#define TRACE_OUT_THREAD 2u

/* Opens `path` and writes `header` (`hlen` bytes of msgpack); `flags` are TRACE_OUT_*. */
int trace_out_open(struct trace_out *o, const char *path, const uint8_t *header, size_t hlen, stamp_to_ns to_ns, void *ctx, unsigned flags);
/* Appends one event: `op` a TRACE_OP_*, `object` and `arg` as stored (relative, FORMAT.md). */
void trace_out_event(struct trace_out *o, unsigned op, uint64_t thread, uint64_t object, uint64_t size, uint64_t arg, uint64_t stamp);

struct trace_totals {
  uint64_t objects, threads, peak_live_objects, peak_live_bytes;
};

/* Writes the last chunk and the footer; closes the file. Fills `checksum`.
 * Returns 0, or -1 when a write failed (errno in o->err). */
int trace_out_close(struct trace_out *o, const struct trace_totals *t, char checksum[65]);

#endif

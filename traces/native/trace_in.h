/* Reads the chunks and the footer of a v1 trace (traces/FORMAT.md) and
 * checks every rule the TypeScript reader checks (traces/format/reader.ts,
 * checks.ts, live.ts, stream.ts), with the same one-line errors. The header
 * is read and checked by the TypeScript side (one definition of its keys,
 * as trace_out.h takes it ready-made); this reader starts at the byte after
 * it, told what the header said (time column or not, chunkEvents).
 *
 * A second thread reads ahead: it parses, hashes, inflates and decodes the
 * varints of the next chunk while the caller's thread applies the rules of
 * events to this one and uses it (the events' rules hold state across
 * chunks; a chunk's columns do not). Errors come out in the file's order,
 * whichever thread found them, so the verdict and the message are those of
 * one thread reading front to back.
 *
 * Memory: two chunks of stored columns, one of decoded ones, and the live
 * set; the file is mmapped and read once, front to back. */
#ifndef ALLOCREPLAY_TRACE_IN_H
#define ALLOCREPLAY_TRACE_IN_H
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "sha256.h"
#include "trace_live.h"

/* What an event's columns mean once decoded: `object` the object made or
 * ended (0: none), `arg` for a realloc the old object's id, `time` ns since
 * the trace started. */
struct trace_chunk {
  uint32_t n;
  uint8_t *op;
  uint32_t *thread;
  uint64_t *object;
  uint64_t *size;
  uint64_t *arg;
  int64_t *time;       /* NULL when the trace has no time column */
  uint64_t *live_after; /* live bytes after each event */
  uint32_t *slot;       /* each event's slot (trace_live.h) */
};

struct trace_in_footer {
  uint64_t events, objects, threads, peak_live_objects, peak_live_bytes;
  char checksum[65];
};

struct trace_in {
  const char *path;
  const uint8_t *map;
  size_t len;
  size_t pos; /* the next top-level value */
  size_t dropped; /* bytes before this are out of the process's memory again */
  int has_time;
  uint32_t chunk_events;
  uint64_t chunk_index;
  struct trace_chunk c;
  struct trace_live live; /* the rules' state: counts, peaks, the live set */
  double time_ns;         /* the running time, as the TypeScript reader sums it */
  struct sha256 hash;
  z_stream z;
  uint8_t *raw;   /* one inflated column */
  int has_footer;
  struct trace_in_footer footer;
  char checksum[65];
  char err[1024];
  const char *hint;
  struct trace_ahead *ahead; /* the read-ahead thread and its two chunks (trace_in.c) */
};

/* Maps `path` and positions the reader at byte `offset` (the end of the
 * header). 0, or -1 with t->err (an I/O failure, not an input error). */
int trace_in_open(struct trace_in *t, const char *path, uint64_t offset, int has_time, uint32_t chunk_events);
/* Reads, checks and decodes the next chunk into t->c: 1. At the end: 0, with
 * has_footer 1 (the footer read and held to the chunks and the checksum) or
 * 0 (the file is cut short). -1: the trace breaks a rule; t->err is the
 * one-line error, t->hint how to fix it. */
int trace_in_chunk(struct trace_in *t);
void trace_in_close(struct trace_in *t);

#endif

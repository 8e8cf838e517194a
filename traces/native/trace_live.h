/* The rules of events of trace format v1 (traces/FORMAT.md, "Events"),
 * as traces/format/live.ts LiveSet enforces them, with its words: the live
 * objects (id → bytes), the counts and peaks the footer must match, the
 * threads that have ended. Memory: the live set and 64 KiB. */
#ifndef ALLOCREPLAY_TRACE_LIVE_H
#define ALLOCREPLAY_TRACE_LIVE_H
#include <stdint.h>

#include "u64map.h"

struct trace_live {
  const char *path;
  uint64_t next_id; /* the id the next successful allocation takes */
  uint64_t live_objects, live_bytes, peak_live_objects, peak_live_bytes, threads, events;
  uint8_t *exited; /* 1 per thread index that has ended */
  struct u64map table;
  char err[512];
  const char *hint;
};

/* 0, or -1 when out of memory. */
int trace_live_init(struct trace_live *l, const char *path);
void trace_live_free(struct trace_live *l);
/* Applies one event (object: the object made or ended; arg: a realloc's old
 * id): 0, or -1 with the one-line error naming the event in l->err. */
int trace_live_step(struct trace_live *l, unsigned op, uint64_t thread, uint64_t object, uint64_t size, uint64_t arg);

#endif

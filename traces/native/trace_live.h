/* The rules of events of trace format v1 (traces/FORMAT.md, "Events"),
 * as traces/format/live.ts LiveSet enforces them, with its words: the live
 * objects (id → bytes), the counts and peaks the footer must match, the
 * threads that have ended. Memory: the live set and 64 KiB.
 *
 * Beside each live object's bytes, its replay slot (engine/native/plan.h):
 * a made object takes the most recently freed slot, else the next new one,
 * so a realloc's new object takes its old one's straight back. The planner
 * reads the slot of each event's object from here: the live set is held
 * once, and each event looks its object up once. */
#ifndef ALLOCREPLAY_TRACE_LIVE_H
#define ALLOCREPLAY_TRACE_LIVE_H
#include <stdint.h>

#include "u64map.h"

struct trace_live {
  const char *path;
  uint64_t next_id; /* the id the next successful allocation takes */
  uint64_t live_objects, live_bytes, peak_live_objects, peak_live_bytes, threads, events;
  uint8_t *exited; /* 1 per thread index that has ended */
  struct u64map table; /* id → bytes, aux: the slot */
  uint32_t *free_slots; /* freed slots, the most recent last */
  uint64_t nfree, free_cap, next_slot;
  uint32_t slot; /* the last event's slot: its object's (a realloc's old one's), or 0 */
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

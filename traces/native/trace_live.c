/* The rules of events; see trace_live.h. Each check is one of live.ts, in
 * the same order, so the first rule a bad event breaks is the one named. */
#include "trace_live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgpack_in.h"
#include "trace_out.h"

#define MAX_THREADS 65536u
#define MAX_OBJECT_ID 4294967295ull
#define MAX_VALUE VALUE_MAX

static const char *js(double x, char *buf) {
  js_number(x, buf);
  return buf;
}
#define NUM(x) js((double)(x), (char[32]){0})

int trace_live_init(struct trace_live *l, const char *path) {
  memset(l, 0, sizeof *l);
  l->path = path;
  l->next_id = 1;
  l->next_slot = 1;
  l->exited = calloc(MAX_THREADS, 1);
  return l->exited && !u64map_init_aux(&l->table) ? 0 : -1;
}

void trace_live_free(struct trace_live *l) {
  free(l->exited), free(l->free_slots);
  l->free_slots = NULL;
  u64map_free(&l->table);
  l->exited = NULL;
}

static int live_fail(struct trace_live *t, const char *what) {
  snprintf(t->err, sizeof t->err, "%s: event %s: %s", t->path, NUM(t->events), what);
  t->hint = "the trace is corrupt or was written by a faulty producer";
  return -1;
}

static int out_of_memory(struct trace_live *t) {
  snprintf(t->err, sizeof t->err, "%s: out of memory", t->path);
  t->hint = "free some memory";
  return -1;
}

static int create(struct trace_live *t, uint64_t id, uint64_t size, uint64_t nmemb) {
  char what[200];
  const double bytes_js = (double)size * (double)nmemb; /* calloc's product as JavaScript computes it */
  if (id > MAX_OBJECT_ID) return snprintf(what, sizeof what, "object %s is beyond the 4294967295 objects a trace may make", NUM(id)), live_fail(t, what);
  if (bytes_js > (double)MAX_VALUE) return snprintf(what, sizeof what, "allocation of %s bytes is larger than 2^53 − 1", NUM(bytes_js)), live_fail(t, what);
  const uint64_t bytes = size * nmemb; /* exact: at most 2^53 − 1 */
  if (t->live_bytes + bytes > MAX_VALUE)
    return snprintf(what, sizeof what, "allocation of %s bytes brings the live bytes past 2^53 − 1 (the footer's peakLiveBytes could not hold them)", NUM(bytes)), live_fail(t, what);
  t->next_id++;
  const uint32_t e = u64map_add(&t->table, id, bytes);
  if (!e) return out_of_memory(t);
  t->slot = t->nfree ? t->free_slots[--t->nfree] : (uint32_t)t->next_slot++;
  t->table.aux[e] = t->slot;
  t->live_objects++;
  t->live_bytes += bytes;
  if (t->live_objects > t->peak_live_objects) t->peak_live_objects = t->live_objects;
  if (t->live_bytes > t->peak_live_bytes) t->peak_live_bytes = t->live_bytes;
  return 0;
}

static int bad_end(struct trace_live *t, uint64_t id, const char *op, int exists) {
  char what[200];
  snprintf(what, sizeof what, exists ? "%s of object %s, which is already dead (double free)" : "%s of object %s, which does not exist yet (id out of range)", op, NUM(id));
  return live_fail(t, what);
}

static int end(struct trace_live *t, uint64_t id, const char *op) {
  uint64_t bytes;
  if (!(id >= 1 && id < t->next_id)) return bad_end(t, id, op, 0);
  const uint32_t e = u64map_take(&t->table, id, &bytes);
  if (!e) return bad_end(t, id, op, 1);
  if (t->nfree == t->free_cap) {
    const uint64_t cap = t->free_cap ? 2 * t->free_cap : 4096;
    uint32_t *f = realloc(t->free_slots, cap * sizeof *f);
    if (!f) return out_of_memory(t);
    t->free_slots = f, t->free_cap = cap;
  }
  t->free_slots[t->nfree++] = t->slot = t->table.aux[e];
  t->live_objects--;
  t->live_bytes -= bytes;
  return 0;
}

static int other(struct trace_live *t, unsigned op, uint32_t thread, uint64_t object, uint64_t size, uint64_t arg) {
  switch (op) {
    case TRACE_OP_FREE:
      if (size || arg) return live_fail(t, "free with a non-zero size or argument");
      return object ? end(t, object, "free") : 0;
    case TRACE_OP_THREAD_EXIT:
      if (object || size || arg) return live_fail(t, "thread_exit with an object, size or argument");
      t->exited[thread] = 1;
      return 0;
    case TRACE_OP_REALLOC:
      /* A failed realloc (NULL for a non-zero size) leaves the old object live. */
      if (!object && size > 0) {
        if (arg && !(arg < t->next_id && u64map_find(&t->table, arg))) return bad_end(t, arg, "realloc", arg >= 1 && arg < t->next_id);
        return 0;
      }
      if (arg && end(t, arg, "realloc")) return -1;
      return object ? create(t, object, size, 1) : 0;
    case TRACE_OP_CALLOC: return object ? create(t, object, size, arg) : 0;
    case TRACE_OP_MEMALIGN:
    case TRACE_OP_POSIX_MEMALIGN:
    case TRACE_OP_ALIGNED_ALLOC:
      /* Only a successful call must have asked for a power of two. */
      if (object && !(arg >= 1 && (arg & (arg - 1)) == 0)) {
        char what[100];
        snprintf(what, sizeof what, "alignment %s is not a power of two", NUM(arg));
        return live_fail(t, what);
      }
      return object ? create(t, object, size, 1) : 0;
    case TRACE_OP_MALLOC:
    case TRACE_OP_VALLOC:
    case TRACE_OP_PVALLOC:
      if (arg) return live_fail(t, "malloc, valloc or pvalloc with a non-zero argument");
      return object ? create(t, object, size, 1) : 0;
    default: {
      char what[40];
      snprintf(what, sizeof what, "unknown op code %u", op);
      return live_fail(t, what);
    }
  }
}

int trace_live_step(struct trace_live *t, unsigned op, uint64_t thread, uint64_t object, uint64_t size, uint64_t arg) {
  char what[120];
  if (!(thread < MAX_THREADS && size <= MAX_VALUE && arg <= MAX_VALUE)) {
    if (!(thread < MAX_THREADS)) snprintf(what, sizeof what, "thread index %s is not in 0 … 65535", NUM(thread));
    else if (!(size <= MAX_VALUE)) snprintf(what, sizeof what, "size %s is not an integer in 0 … 2^53 − 1", NUM(size));
    else snprintf(what, sizeof what, "argument %s is not an integer in 0 … 2^53 − 1", NUM(arg));
    return live_fail(t, what);
  }
  t->slot = 0;
  if (thread >= t->threads) t->threads = thread + 1;
  else if (t->exited[thread]) return snprintf(what, sizeof what, "thread %u has an event after its thread_exit", (unsigned)thread), live_fail(t, what);
  int r;
  if (op == TRACE_OP_MALLOC && arg == 0) r = object ? create(t, object, size, 1) : 0;
  else if (op == TRACE_OP_FREE && object && !size && !arg) r = end(t, object, "free");
  else r = other(t, op, (uint32_t)thread, object, size, arg);
  if (r) return r;
  t->events++;
  return 0;
}

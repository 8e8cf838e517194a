/* pace=recorded: the program's own work between allocator calls.
 *
 * A replay runs the calls back to back, so the allocator's metadata stays
 * hot in cache and the blocks it hands out are never used. With pacing the
 * driver does, before each op, an amount of work proportional to the time
 * the recording saw before that call (plan.h: pace_ns): `scale` work units
 * per recorded µs. The amount is fixed by the plan and the scale — never by
 * the clock — so instruction counts stay exact run after run.
 *
 * One work unit reads and writes one byte in one cache line of a live block:
 * 15 times in 16 one of the PACE_RECENT newest entries of the live set (a
 * program mostly works on what it just made, and those lines mostly hit the
 * cache), else a block drawn uniformly from the whole live set (the rest of
 * its heap: mostly a miss), at a uniformly drawn line of the block. The live
 * set is dense with swap-remove, so its tail holds the most recently made
 * blocks still live (a freed block's hole takes the tail's newest one): a
 * ring of recent ids would mostly name blocks already freed, since most
 * programs free their temporaries at once. The choice comes from a xorshift PRNG seeded the same for every
 * repetition.
 *
 * A view is the live set one thread works over: serial mode has one; threads
 * mode has one per worker, holding only the blocks the worker allocates and
 * itself ends (pace.c marks the others untracked before any timing), so no
 * worker ever reads a block another may free, and no view is shared.
 *
 * Invariants: an entry of a view is a block that is live (it leaves the view
 * before the allocator sees its free or realloc); pace_pos[obj] is its index
 * + 1 in its view, 0 when untracked for now, PACE_NEVER when never tracked.
 * All tables are mmapped before timing, sized by the plan, and never grow.
 */
#ifndef AR_PACE_H
#define AR_PACE_H

#include <stdint.h>

#include "ar_assert.h"
#include "plan.h"

#define PACE_RECENT 64u /* the newest live blocks a near unit draws from: a power of two */
#define PACE_NEVER UINT32_MAX
#define PACE_LINE 64u /* bytes per cache line */
#define PACE_FAR 16u  /* one unit in PACE_FAR draws from the whole live set: a power of two */

struct pace_entry {
  volatile uint8_t *p;
  uint32_t obj;
  uint32_t lines; /* cache lines the block spans, at least 1 */
};

struct pace_view {
  struct pace_entry *live; /* dense; `cap` entries mapped */
  uint64_t n, cap;
  uint64_t rng;
  uint64_t carry; /* ns·scale not yet turned into a whole unit (< 1000) */
  uint64_t sink;  /* keeps the reads live */
};

extern uint32_t *pace_pos;      /* object id -> index + 1 in its view */
extern struct pace_view *pace_views; /* serial: [0]; threads: one per worker */
extern uint64_t pace_scale;     /* work units per recorded µs */

/* Maps the views and the position table and decides which objects each
 * mode tracks (before any timing); `threads` selects the per-worker views. */
void pace_reserve(int threads);
/* Empties every view for the next repetition (untimed). */
void pace_reset(void);

static inline uint64_t pace_next(struct pace_view *v) {
  uint64_t x = v->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return v->rng = x;
}

/* [0, n) from 32 random bits, without a division. */
static inline uint64_t pace_below(uint64_t r32, uint64_t n) { return (r32 * n) >> 32; }

/* A new block `p` of `bytes` for object `obj` joins the view. */
static inline void pace_add(struct pace_view *v, uint32_t obj, void *p, uint64_t bytes) {
  /* A zero-byte block has no byte to touch. */
  if (!obj || !p || !bytes || pace_pos[obj] == PACE_NEVER) return;
  uint64_t lines = (bytes + PACE_LINE - 1) / PACE_LINE;
  ar_assert(v->n <= v->cap); /* `cap` + 1 entries are mapped */
  v->live[v->n] = (struct pace_entry){p, obj, lines ? (lines > UINT32_MAX ? UINT32_MAX : (uint32_t)lines) : 1};
  pace_pos[obj] = (uint32_t)++v->n;
}

/* Object `obj` leaves the view (before the allocator frees or moves it). */
static inline void pace_remove(struct pace_view *v, uint32_t obj) {
  uint32_t k = pace_pos[obj];
  if (k == 0 || k == PACE_NEVER) return;
  ar_assert(k <= v->n && v->live[k - 1].obj == obj);
  struct pace_entry last = v->live[--v->n];
  v->live[k - 1] = last;
  pace_pos[last.obj] = k;
  pace_pos[obj] = 0;
}

/* The work the recording saw before one op: `ns` recorded ns. */
static inline void pace_work(struct pace_view *v, uint32_t ns) {
  uint64_t acc = v->carry + (uint64_t)ns * pace_scale;
  uint64_t units = acc / 1000;
  v->carry = acc % 1000;
  uint64_t sink = v->sink;
  for (uint64_t u = 0; u < units; u++) {
    uint64_t r = pace_next(v), n = v->n;
    if (!n) {
      sink += r; /* nothing live: only the arithmetic */
      continue;
    }
    const struct pace_entry *e;
    if (r & (PACE_FAR - 1)) {
      uint64_t back = (r >> 4) & (PACE_RECENT - 1);
      e = &v->live[n - 1 - (back < n ? back : n - 1)];
    } else {
      e = &v->live[pace_below((r >> 8) & 0xffffffffu, n)];
    }
    volatile uint8_t *q = e->p + pace_below(r >> 32, e->lines) * PACE_LINE;
    uint8_t b = *q;
    *q = (uint8_t)(b + 1);
    sink = sink * 31 + b;
  }
  v->sink = sink;
}

#endif

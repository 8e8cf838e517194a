/* The unit map: which 64 KiB units hold a header we made (see tinyslab.h).
 *
 * A unit's byte is written only by whoever maps or unmaps that unit, so
 * plain atomic stores suffice; leaves are installed with a compare-and-swap
 * (the loser unmaps its copy) and never removed, so a reader that saw a leaf
 * may keep using it. Leaves come from mmap: this runs inside malloc. */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "tinyslab.h"

_Atomic(_Atomic uint8_t *) ts_unit_map[(size_t)1 << (TS_ADDRESS_BITS - TS_SPAN_SHIFT)];

static _Atomic uint8_t *leaf_for(uintptr_t a) {
  _Atomic(_Atomic uint8_t *) *top = &ts_unit_map[a >> TS_SPAN_SHIFT];
  _Atomic uint8_t *leaf = atomic_load_explicit(top, memory_order_acquire);
  if (leaf) return leaf;
  void *m = mmap(NULL, TS_UNITS_PER_SPAN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  _Atomic uint8_t *expected = NULL;
  if (atomic_compare_exchange_strong_explicit(top, &expected, (_Atomic uint8_t *)m, memory_order_acq_rel, memory_order_acquire))
    return m;
  munmap(m, TS_UNITS_PER_SPAN);
  return expected;
}

int ts_unit_mark(const void *s, int on) {
  uintptr_t a = (uintptr_t)s;
  if (a >> TS_ADDRESS_BITS) return 0; /* not user space we can describe: never ours */
  ts_assert((a & (TS_SLAB_SIZE - 1)) == 0); /* a header's unit starts where the header does */
  _Atomic uint8_t *leaf = on ? leaf_for(a) : atomic_load_explicit(&ts_unit_map[a >> TS_SPAN_SHIFT], memory_order_acquire);
  if (!leaf) return !on;
  atomic_store_explicit(&leaf[(a >> TS_UNIT_SHIFT) & (TS_UNITS_PER_SPAN - 1)], (uint8_t)(on != 0), memory_order_release);
  return 1;
}

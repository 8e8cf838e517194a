/* Slabs and large blocks: the only code that talks to mmap (besides the
 * unit map's own leaves). Every header unit it maps is marked in the unit
 * map before its first block is handed out, and unmarked before unmapping. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "tinyslab.h"

/* Maps `size` bytes aligned to `align` (a power of two ≥ page size) and
 * trims the excess, so alignment costs address space, not memory. */
static void *map_aligned(size_t size, size_t align) {
  size_t len;
  if (__builtin_add_overflow(size, align, &len) || len > PTRDIFF_MAX) return NULL;
  char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  char *p = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
  if (p > raw) munmap(raw, (size_t)(p - raw));
  ts_assert(((uintptr_t)p & (align - 1)) == 0);
  size_t tail = (size_t)((raw + len) - (p + size));
  if (tail) munmap(p + size, tail);
  return p;
}

struct ts_slab *ts_slab_map_alone(unsigned cls, size_t size) {
  struct ts_slab *s = map_aligned(size, TS_SLAB_SIZE);
  if (!s) return NULL;
  if (!ts_unit_mark(s, 1)) {
    munmap(s, size);
    return NULL;
  }
  ts_slab_init(s, cls);
  s->end = (char *)s + size;
  s->fallback = 1;
  TS_COUNT(ts_stat_slabs_alone);
  return s;
}

void ts_slab_unmap(struct ts_slab *s) {
  ts_unit_mark(s, 0);
  munmap(s, (size_t)(s->end - (char *)s)); /* a slab mapped alone ends where its mapping does */
}

/* Superslabs are carved front to back under the pool's lock; they are never
 * returned to the system (their slabs cycle through the pool instead). */
static char *super_next, *super_end;

void *ts_superslab_carve(void) {
  if (super_next == super_end) {
    char *s = map_aligned(TS_SUPERSLAB_SIZE, TS_SUPERSLAB_SIZE);
    if (!s) return NULL;
    super_next = s;
    super_end = s + TS_SUPERSLAB_SIZE;
  }
  void *slab = super_next;
  ts_assert(super_next + TS_SLAB_SIZE <= super_end && ((uintptr_t)slab & (TS_SLAB_SIZE - 1)) == 0);
  if (!ts_unit_mark(slab, 1)) return NULL; /* the superslab stays, its next slab untouched */
  super_next += TS_SLAB_SIZE;
  TS_COUNT(ts_stat_slabs_carved);
  return slab;
}

void ts_slab_init(struct ts_slab *s, unsigned cls) {
  /* Marked before its first block is handed out (tinyslab.h). */
  ts_assert(((uintptr_t)s & (TS_SLAB_SIZE - 1)) == 0 && ts_is_ours(s) && cls < TS_NCLASSES);
  s->magic = TS_MAGIC;
  s->kind = TS_SMALL;
  s->cls = (uint16_t)cls;
  s->block = (uint32_t)ts_class_size(cls);
  s->used = 0;
  s->free = NULL;
  atomic_store_explicit(&s->remote, NULL, memory_order_relaxed);
  s->bump = (char *)s + TS_DATA_OFFSET;
  s->end = (char *)s + TS_SLAB_SIZE;
  s->owner = NULL;
  s->prev = s->next = NULL;
}

/* A large block: a mapping of its own whose header sits in the 64 KiB
 * before the block (see the invariant in tinyslab.h). */
void *ts_large_alloc(size_t size, size_t align, int *fresh) {
  size_t off = align <= TS_DATA_OFFSET ? TS_DATA_OFFSET : align <= TS_SLAB_SIZE ? align : TS_SLAB_SIZE;
  /* Alignments past 64 KiB: the header goes 64 KiB before the block. */
  size_t lead = align > TS_SLAB_SIZE ? align - TS_SLAB_SIZE : 0;
  size_t need;
  if (__builtin_add_overflow(lead, off, &need) || __builtin_add_overflow(need, size, &need) ||
      __builtin_add_overflow(need, (size_t)4095, &need) || need > PTRDIFF_MAX)
    return NULL; /* e.g. memalign(2^63, 1): no mapping can hold it */
  need &= ~(size_t)4095;
  char *base = map_aligned(need, align > TS_SLAB_SIZE ? align : TS_SLAB_SIZE);
  if (!base) return NULL;
  struct ts_slab *h = (struct ts_slab *)(base + lead);
  if (!ts_unit_mark(h, 1)) {
    munmap(base, need);
    return NULL;
  }
  memset(h, 0, sizeof *h);
  h->magic = TS_MAGIC;
  h->kind = TS_LARGE;
  h->map_base = base;
  h->map_size = need;
  char *p = (char *)h + off;
  h->bump = p; /* the block; its usable size runs to the mapping's end */
  h->end = base + need;
  /* The header is at (p - 1) rounded down to 64 KiB, and the block holds `size`. */
  ts_assert(ts_slab_of(p) == h && (size_t)(h->end - p) >= size);
  *fresh = 1;
  TS_COUNT(ts_stat_large);
  return p;
}

void ts_large_free(struct ts_slab *s) {
  ts_assert(s->magic == TS_MAGIC && s->kind == TS_LARGE && (char *)s >= (char *)s->map_base && s->end == (char *)s->map_base + s->map_size);
  ts_unit_mark(s, 0);
  munmap(s->map_base, s->map_size);
}

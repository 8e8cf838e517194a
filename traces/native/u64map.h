/* A hash map from 64-bit keys (never 0) to 64-bit values: the converter's
 * live objects (pointer → id and size) and thread table, and the trace
 * reader's live set (id → bytes, with each object's replay slot in `aux`,
 * trace_live.c).
 * Chained through 32-bit entry indices: an entry (key, value, next) is 20
 * bytes in one place — a lookup touches its bucket and its entry, two cache
 * lines — plus 4 bytes per bucket. Growing never copies the entries (realloc
 * of a large array moves pages), so peak memory follows the live set. */
#ifndef ALLOCREPLAY_U64MAP_H
#define ALLOCREPLAY_U64MAP_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct u64entry {
  uint64_t key; /* 0: free */
  uint64_t val;
  uint32_t next; /* chain, or the free list; 0 is "none" */
} __attribute__((packed));

struct u64map {
  struct u64entry *e; /* index 0 unused */
  uint32_t *aux;      /* NULL, or (u64map_init_aux) 32 bits more per entry, e's indices */
  uint32_t *bucket;
  uint32_t cap;  /* entries allocated */
  uint32_t used; /* high-water mark of entry indices */
  uint32_t free_head;
  uint32_t count;
  uint32_t mask; /* buckets − 1 */
};

static inline uint32_t u64map_slot(const struct u64map *m, uint64_t k) {
  return (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> 32) & m->mask;
}

static inline int u64map_init(struct u64map *m) {
  memset(m, 0, sizeof *m);
  m->mask = 1023;
  m->bucket = calloc(m->mask + 1, sizeof(uint32_t));
  return m->bucket ? 0 : -1;
}

/* As u64map_init, with a 32-bit `aux` beside each entry's value (the
 * planner's slot beside the rules' bytes: one map, one lookup). */
static inline int u64map_init_aux(struct u64map *m) {
  if (u64map_init(m)) return -1;
  m->aux = malloc(sizeof(uint32_t));
  return m->aux ? 0 : -1;
}

static inline void u64map_free(struct u64map *m) {
  free(m->e), free(m->bucket), free(m->aux);
  memset(m, 0, sizeof *m);
}

/* The entry holding `k`, or 0. */
static inline uint32_t u64map_find(const struct u64map *m, uint64_t k) {
  for (uint32_t i = m->bucket[u64map_slot(m, k)]; i; i = m->e[i].next)
    if (m->e[i].key == k) return i;
  return 0;
}

/* Value of entry `i` (from u64map_find). */
static inline uint64_t u64map_val(const struct u64map *m, uint32_t i) { return m->e[i].val; }

static int u64map_grow_buckets(struct u64map *m) {
  uint32_t nb = (m->mask + 1) * 2;
  uint32_t *b = calloc(nb, sizeof(uint32_t));
  if (!b) return -1;
  free(m->bucket);
  m->bucket = b;
  m->mask = nb - 1;
  /* Relink every entry in use. */
  for (uint32_t i = 1; i <= m->used; i++) {
    if (!m->e[i].key) continue;
    uint32_t s = u64map_slot(m, m->e[i].key);
    m->e[i].next = b[s];
    b[s] = i;
  }
  return 0;
}

/* Adds `k` (not present) with value `v`; returns its entry, or 0 when out of memory. */
static inline uint32_t u64map_add(struct u64map *m, uint64_t k, uint64_t v) {
  uint32_t i = m->free_head;
  if (i) {
    m->free_head = m->e[i].next;
  } else {
    if (m->used + 1 >= m->cap) {
      uint32_t cap = m->cap ? m->cap + m->cap / 2 : 4096;
      struct u64entry *ne = realloc(m->e, (size_t)cap * sizeof *ne);
      if (!ne) return 0;
      m->e = ne;
      if (m->aux) {
        uint32_t *na = realloc(m->aux, (size_t)cap * sizeof *na);
        if (!na) return 0;
        m->aux = na;
      }
      m->cap = cap;
    }
    i = ++m->used;
  }
  uint32_t s = u64map_slot(m, k);
  m->e[i] = (struct u64entry){k, v, m->bucket[s]};
  m->bucket[s] = i;
  if (++m->count > m->mask + 1 && u64map_grow_buckets(m)) return 0;
  return i;
}

/* Removes `k`; returns its value through `v` and the entry it held (its
 * aux readable until the next add), or 0 when absent. */
static inline uint32_t u64map_take(struct u64map *m, uint64_t k, uint64_t *v) {
  uint32_t s = u64map_slot(m, k), prev = 0;
  for (uint32_t i = m->bucket[s]; i; prev = i, i = m->e[i].next) {
    if (m->e[i].key != k) continue;
    *v = m->e[i].val;
    if (prev) m->e[prev].next = m->e[i].next;
    else m->bucket[s] = m->e[i].next;
    m->e[i].key = 0;
    m->e[i].next = m->free_head;
    m->free_head = i;
    m->count--;
    return i;
  }
  return 0;
}

/* Warms the cache for a lookup of `k` soon: `stage` 0 fetches its bucket,
 * 1 (later, the bucket now at hand) the entry it points to. */
static inline void u64map_prefetch(const struct u64map *m, uint64_t k, int stage) {
  const uint32_t *b = &m->bucket[u64map_slot(m, k)];
  if (stage == 0) __builtin_prefetch(b);
  else if (*b) __builtin_prefetch(&m->e[*b]);
}

#endif

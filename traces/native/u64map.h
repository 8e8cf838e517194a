/* A hash map from 64-bit keys (never 0) to 64-bit values, for the
 * converter's live objects (pointer → id and size) and thread table.
 * Chained through 32-bit entry indices: 20 bytes per entry plus 4 per
 * bucket, and growing it never copies the entries (realloc of large arrays
 * moves pages), so its peak memory follows the live set closely. */
#ifndef ALLOCREPLAY_U64MAP_H
#define ALLOCREPLAY_U64MAP_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct u64map {
  uint64_t *key, *val;
  uint32_t *next; /* chain, or the free list; index 0 is "none" */
  uint32_t *bucket;
  uint32_t cap;   /* entries allocated (index 0 unused) */
  uint32_t used;  /* high-water mark of entry indices */
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

static inline void u64map_free(struct u64map *m) {
  free(m->key), free(m->val), free(m->next), free(m->bucket);
  memset(m, 0, sizeof *m);
}

/* The entry holding `k`, or 0. */
static inline uint32_t u64map_find(const struct u64map *m, uint64_t k) {
  for (uint32_t i = m->bucket[u64map_slot(m, k)]; i; i = m->next[i])
    if (m->key[i] == k) return i;
  return 0;
}

static int u64map_grow_buckets(struct u64map *m) {
  uint32_t nb = (m->mask + 1) * 2;
  uint32_t *b = calloc(nb, sizeof(uint32_t));
  if (!b) return -1;
  free(m->bucket);
  m->bucket = b;
  m->mask = nb - 1;
  /* Relink every entry in use (free entries have key 0). */
  for (uint32_t i = 1; i <= m->used; i++) {
    if (!m->key[i]) continue;
    uint32_t s = u64map_slot(m, m->key[i]);
    m->next[i] = b[s];
    b[s] = i;
  }
  return 0;
}

/* Adds `k` (not present) with value `v`; returns its entry, or 0 when out of memory. */
static inline uint32_t u64map_add(struct u64map *m, uint64_t k, uint64_t v) {
  uint32_t i = m->free_head;
  if (i) {
    m->free_head = m->next[i];
  } else {
    if (m->used + 1 >= m->cap) {
      uint32_t cap = m->cap ? m->cap + m->cap / 2 : 4096;
      uint64_t *nk = realloc(m->key, (size_t)cap * 8);
      if (!nk) return 0;
      m->key = nk;
      uint64_t *nv = realloc(m->val, (size_t)cap * 8);
      if (!nv) return 0;
      m->val = nv;
      uint32_t *nn = realloc(m->next, (size_t)cap * 4);
      if (!nn) return 0;
      m->next = nn;
      m->cap = cap;
    }
    i = ++m->used;
  }
  m->key[i] = k;
  m->val[i] = v;
  uint32_t s = u64map_slot(m, k);
  m->next[i] = m->bucket[s];
  m->bucket[s] = i;
  if (++m->count > m->mask + 1 && u64map_grow_buckets(m)) return 0;
  return i;
}

/* Removes `k`; returns its value through `v` and 1, or 0 when absent. */
static inline int u64map_take(struct u64map *m, uint64_t k, uint64_t *v) {
  for (uint32_t *link = &m->bucket[u64map_slot(m, k)]; *link; link = &m->next[*link]) {
    uint32_t i = *link;
    if (m->key[i] != k) continue;
    *v = m->val[i];
    *link = m->next[i];
    m->key[i] = 0;
    m->next[i] = m->free_head;
    m->free_head = i;
    m->count--;
    return 1;
  }
  return 0;
}

#endif

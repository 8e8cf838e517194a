/* Counters (TS_STATS=1), written at exit as `name value` lines to the file
 * named by $ALLOCREPLAY_STATS_FILE: with raw syscalls, since malloc may be
 * what is being torn down. allocreplay_stats_reset() zeroes them: the
 * replay driver calls it after its warm-up repetitions, so that the file
 * counts the measured repetitions alone. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tinyslab.h"

#if TS_STATS
_Atomic uint64_t ts_stat_mallocs, ts_stat_frees, ts_stat_cap_fallbacks, ts_stat_slabs_carved, ts_stat_slabs_alone,
    ts_stat_remote_frees, ts_stat_large, ts_stat_pool_reuses, ts_stat_foreign_frees;

/* snprintf of integers needs no malloc (unlike the rest of stdio). */
static char *put(char *p, const char *end, const char *name, uint64_t v) {
  int n = snprintf(p, (size_t)(end - p), "%s %llu\n", name, (unsigned long long)v);
  return n > 0 && n < end - p ? p + n : p;
}

void allocreplay_stats_reset(void) {
  _Atomic uint64_t *all[] = {&ts_stat_mallocs,     &ts_stat_frees, &ts_stat_cap_fallbacks, &ts_stat_slabs_carved, &ts_stat_slabs_alone,
                             &ts_stat_remote_frees, &ts_stat_large, &ts_stat_pool_reuses,   &ts_stat_foreign_frees};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) atomic_store_explicit(all[i], 0, memory_order_relaxed);
}

__attribute__((destructor)) static void ts_stats_write(void) {
  const char *path = getenv("ALLOCREPLAY_STATS_FILE");
  if (!path || !*path) return;
  char buf[1024], *p = buf, *end = buf + sizeof buf;
  p = put(p, end, "mallocs", ts_stat_mallocs);
  p = put(p, end, "frees", ts_stat_frees);
  p = put(p, end, "cap_fallbacks", ts_stat_cap_fallbacks);
  p = put(p, end, "slabs_carved", ts_stat_slabs_carved);
  p = put(p, end, "slabs_alone", ts_stat_slabs_alone);
  p = put(p, end, "remote_frees", ts_stat_remote_frees);
  p = put(p, end, "large_allocs", ts_stat_large);
  p = put(p, end, "pool_reuses", ts_stat_pool_reuses);
  p = put(p, end, "foreign_frees", ts_stat_foreign_frees);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t w = write(fd, buf, (size_t)(p - buf));
  (void)w;
  close(fd);
}
#endif

/* Counters (TS_STATS=1), written at exit as `name value` lines to the file
 * named by $ALLOCREPLAY_STATS_FILE: with raw syscalls, since malloc may be
 * what is being torn down. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tinyslab.h"

#if TS_STATS
_Atomic uint64_t ts_stat_mallocs, ts_stat_frees, ts_stat_cap_fallbacks, ts_stat_slabs_carved, ts_stat_slabs_alone,
    ts_stat_remote_frees, ts_stat_large, ts_stat_pool_reuses;

static char *put(char *p, const char *name, uint64_t v) {
  size_t n = strlen(name);
  memcpy(p, name, n);
  p += n;
  *p++ = ' ';
  char tmp[24];
  int k = 0;
  do {
    tmp[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (k) *p++ = tmp[--k];
  *p++ = '\n';
  return p;
}

__attribute__((destructor)) static void ts_stats_write(void) {
  const char *path = getenv("ALLOCREPLAY_STATS_FILE");
  if (!path || !*path) return;
  char buf[1024], *p = buf;
  p = put(p, "mallocs", ts_stat_mallocs);
  p = put(p, "frees", ts_stat_frees);
  p = put(p, "cap_fallbacks", ts_stat_cap_fallbacks);
  p = put(p, "slabs_carved", ts_stat_slabs_carved);
  p = put(p, "slabs_alone", ts_stat_slabs_alone);
  p = put(p, "remote_frees", ts_stat_remote_frees);
  p = put(p, "large_allocs", ts_stat_large);
  p = put(p, "pool_reuses", ts_stat_pool_reuses);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t w = write(fd, buf, (size_t)(p - buf));
  (void)w;
  close(fd);
}
#endif

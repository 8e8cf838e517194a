/* The debug build's failed check (TS_DEBUG=1, ts_assert in tinyslab.h):
 * one line on stderr, written without stdio or malloc (we are malloc, and
 * the heap may be what is broken), then abort. */
#include "tinyslab.h"

#if TS_DEBUG
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *s) { (void)!write(2, s, strlen(s)); }

void ts_assert_fail(const char *cond, const char *file, int line) {
  char digits[12], *d = digits + sizeof digits;
  *--d = '\0';
  unsigned v = line > 0 ? (unsigned)line : 0;
  do *--d = (char)('0' + v % 10);
  while (v /= 10);
  put("tinyslab: ");
  put(file);
  put(":");
  put(d);
  put(": invariant failed: ");
  put(cond);
  put("\n");
  abort();
}
#endif

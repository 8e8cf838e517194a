/* Text helpers shared by the native parts (the recorder, the replay driver).
 * Async-signal-safe: no malloc, no stdio, no locale, so they work inside a
 * signal handler and while the allocator under test is broken. */
#ifndef AR_TEXT_H
#define AR_TEXT_H

#include <stdint.h>

/* Writes v in decimal at p (at most 20 bytes, no terminator); returns the end. */
static inline char *ar_put_u64(char *p, uint64_t v) {
  char t[20];
  int k = 0;
  do t[k++] = (char)('0' + v % 10), v /= 10;
  while (v);
  while (k) *p++ = t[--k];
  return p;
}

#endif

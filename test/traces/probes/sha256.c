/* Reads stdin in pieces of changing length (1, 38, 75, … bytes, so the
 * pieces straddle block boundaries every way) and prints the SHA-256 digest
 * of all of it, as traces/native/sha256.c computes it. */
#include <stdio.h>

#include "sha256.h"

int main(void) {
  static unsigned char buf[1 << 16];
  struct sha256 s;
  sha256_init(&s);
  size_t n;
  for (unsigned k = 0; (n = fread(buf, 1, 1 + (k * 37) % sizeof buf, stdin)) > 0; k++) sha256_update(&s, buf, n);
  char hex[65];
  sha256_hex(&s, hex);
  puts(hex);
  return 0;
}

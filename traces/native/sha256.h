/* SHA-256 (FIPS 180-4), for the trace checksum the converter writes in the
 * footer (traces/FORMAT.md: the hex digest of every chunk's compressed
 * columns). Incremental: init, update any number of times, final. */
#ifndef ALLOCREPLAY_SHA256_H
#define ALLOCREPLAY_SHA256_H
#include <stddef.h>
#include <stdint.h>

struct sha256 {
  uint32_t h[8];
  uint64_t bytes; /* total fed so far */
  uint8_t block[64];
  size_t fill; /* bytes waiting in `block` */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* Writes the digest as 64 lowercase hex digits and a NUL into `hex`. */
void sha256_hex(struct sha256 *s, char hex[65]);

#endif

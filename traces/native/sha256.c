/* SHA-256 as FIPS 180-4 specifies it; see sha256.h.
 *
 * Two ways to compress the blocks, giving the same digest: the portable
 * one below, and on x86-64 processors with the SHA extensions (most made
 * since 2017) the processor's own rounds, about four times as fast. The
 * planner hashes every trace it reads; with the portable rounds the hash
 * was 14% of its time. Which one runs is chosen once, by cpuid; building
 * with -DAR_SHA256_PORTABLE keeps the portable one (the tests compare the
 * two builds' digests). */
#include "sha256.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(AR_SHA256_PORTABLE)
#define AR_SHA256_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

/* The first 32 bits of the fractional parts of the cube roots of the first
 * 64 primes (round constants) ... */
static const uint32_t round_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* ... and of the square roots of the first 8 primes (initial state). */
static const uint32_t initial_h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void compress_block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + round_k[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

#ifdef AR_SHA256_NI
/* The same compression with the SHA extensions. The eight words live in two
 * registers as the instructions want them: (a, b, e, f) and (c, d, g, h),
 * highest lane first; each sha256rnds2 does two rounds and returns the new
 * (a, b, e, f), the old one becoming (c, d, g, h). The schedule keeps the
 * last four groups of four words: msg1 adds sigma0 of the next words, the
 * words seven back are added by hand, msg2 adds sigma1. */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_blocks_ni(uint32_t h[8], const uint8_t *p, size_t nblocks) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll); /* big-endian words */
  __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1); /* lanes b a d c */
  __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* lanes h g f e */
  __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);                                   /* lanes f e b a */
  __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);                                /* lanes h g d c */
  for (; nblocks; nblocks--, p += 64) {
    const __m128i abef0 = abef, cdgh0 = cdgh;
    __m128i m[4];
    for (int g = 0; g < 16; g++) {
      __m128i w;
      if (g < 4) {
        w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), swap);
      } else {
        /* Group g from groups g-4 .. g-1, held in m[g % 4] .. m[(g + 3) % 4]. */
        w = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);
        w = _mm_add_epi32(w, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
        w = _mm_sha256msg2_epu32(w, m[(g + 3) & 3]);
      }
      m[g & 3] = w;
      __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&round_k[4 * g]));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
  }
  __m128i fwd = _mm_shuffle_epi32(abef, 0x1B); /* lanes a b e f */
  __m128i bck = _mm_shuffle_epi32(cdgh, 0xB1); /* lanes g h c d */
  _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(fwd, bck, 0xF0));
  _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(bck, fwd, 8));
}

/* 1 when the processor has the SHA extensions and the SSE levels they need. */
static int have_sha_ni(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3)) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (b >> 29) & 1;
}
#endif

/* Compresses n whole blocks from p. */
static void compress_blocks(uint32_t h[8], const uint8_t *p, size_t n) {
#ifdef AR_SHA256_NI
  static int ni = -1;
  if (ni < 0) ni = have_sha_ni();
  if (ni) {
    compress_blocks_ni(h, p, n);
    return;
  }
#endif
  for (; n; n--, p += 64) compress_block(h, p);
}

void sha256_init(struct sha256 *s) {
  memcpy(s->h, initial_h, sizeof s->h);
  s->bytes = 0;
  s->fill = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n) {
  const uint8_t *p = data;
  s->bytes += n;
  if (s->fill) {
    size_t take = 64 - s->fill < n ? 64 - s->fill : n;
    memcpy(s->block + s->fill, p, take);
    s->fill += take, p += take, n -= take;
    if (s->fill < 64) return;
    compress_blocks(s->h, s->block, 1);
    s->fill = 0;
  }
  compress_blocks(s->h, p, n / 64);
  p += n / 64 * 64, n %= 64;
  memcpy(s->block, p, n);
  s->fill = n;
}

void sha256_hex(struct sha256 *s, char hex[65]) {
  uint64_t bits = s->bytes * 8;
  uint8_t pad[72] = {0x80};
  /* Pad to 56 mod 64, then the message length in bits, big-endian. */
  size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
  for (int i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
  sha256_update(s, pad, padlen + 8);
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    uint8_t b = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
    hex[2 * i] = digits[b >> 4];
    hex[2 * i + 1] = digits[b & 15];
  }
  hex[64] = 0;
}

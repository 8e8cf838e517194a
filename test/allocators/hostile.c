/* Hostile requests to a preloaded allocator: sizes whose arithmetic would
 * wrap, and pointers it never made. Each must fail cleanly (NULL + errno, or
 * an error code) or be left alone, and the allocator and the memory around
 * it must stay intact. Prints "hostile: N failures"; exit status 0 means
 * none. `ALLOCREPLAY_FOREIGN_FREES` (printed) is how many foreign pointers
 * were passed to free(). */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int failures;

static void check(int ok, const char *what) {
  if (!ok) {
    failures++;
    fprintf(stderr, "hostile: check failed: %s\n", what);
  }
}

/* A request that cannot be met: NULL with ENOMEM (or EINVAL for a bad alignment). */
static void refused(void *p, int err, const char *what) {
  check(p == NULL && errno == err, what);
  if (p) free(p);
  errno = 0;
}

static char fixed_block[256];

/* Values the compiler cannot see through, so it neither warns about nor
 * folds the deliberately absurd calls below. */
static size_t opaque(size_t v) {
  volatile size_t x = v;
  return x;
}

static void *hide(void *p) {
  void *volatile x = p;
  return x;
}

int main(void) {
  /* Memory that must survive everything below: a block of ours and a
   * mapping of our own, both filled with a pattern. */
  char *mine = malloc(100);
  memset(mine, 'm', 100);
  size_t region = (size_t)4 << 20;
  char *map = mmap(NULL, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(map, 'x', region);

  errno = 0;
  refused(memalign(opaque((size_t)1 << 63), 1), ENOMEM, "memalign(2^63, 1)");
  refused(memalign(opaque((size_t)1 << 62), opaque((size_t)1 << 62)), ENOMEM, "memalign(2^62, 2^62)");
  refused(aligned_alloc(opaque((size_t)1 << 40), opaque(SIZE_MAX)), ENOMEM, "aligned_alloc(2^40, SIZE_MAX)");
  void *q = (void *)1;
  check(posix_memalign(&q, opaque((size_t)1 << 63), 1) == ENOMEM && q == (void *)1, "posix_memalign(2^63, 1) is ENOMEM, *out untouched");
  refused(malloc(opaque(SIZE_MAX)), ENOMEM, "malloc(SIZE_MAX)");
  refused(malloc(opaque(SIZE_MAX - 4096)), ENOMEM, "malloc(SIZE_MAX - 4096)");
  refused(malloc(opaque(PTRDIFF_MAX)), ENOMEM, "malloc(PTRDIFF_MAX)");
  refused(calloc(opaque(SIZE_MAX / 2), 3), ENOMEM, "calloc overflowing nmemb * size");
  refused(calloc(1, opaque(SIZE_MAX - 100)), ENOMEM, "calloc(1, SIZE_MAX - 100)");
  refused(pvalloc(opaque(SIZE_MAX - 10)), ENOMEM, "pvalloc rounding past SIZE_MAX");
  refused(valloc(opaque(SIZE_MAX - 10)), ENOMEM, "valloc(SIZE_MAX - 10)");
  refused(reallocarray(NULL, opaque(SIZE_MAX / 4), 8), ENOMEM, "reallocarray overflowing");
  refused(realloc(hide(mine), opaque(SIZE_MAX - 1)), ENOMEM, "realloc to SIZE_MAX - 1");

  /* Pointers it never made: a static array, the stack, the middle of our
   * own mapping, and a 64 KiB boundary inside it dressed as a header. */
  char on_stack[64];
  char *boundary = (char *)(((uintptr_t)map + 0x20000) & ~(uintptr_t)0xffff);
  void *foreign[] = {fixed_block + 16, on_stack + 16, map + 4096 + 16, boundary + 256, boundary + 0x10000};
  int nforeign = (int)(sizeof foreign / sizeof foreign[0]);
  for (int i = 0; i < nforeign; i++) {
    check(malloc_usable_size(foreign[i]) == 0, "malloc_usable_size of a foreign pointer is 0");
    errno = 0;
    check(realloc(hide(foreign[i]), 32) == NULL && errno == EINVAL, "realloc of a foreign pointer fails with EINVAL");
    free(foreign[i]);
  }
  /* A large block freed twice: the second free is of a pointer no longer ours. */
  char *big = malloc((size_t)1 << 20);
  check(big != NULL, "a large block");
  void *again = hide(big);
  free(big);
  free(again);
  nforeign++;

  /* Everything around is as it was, and the allocator still serves. */
  int intact = 1;
  for (size_t i = 0; i < region; i += 4096) intact &= map[i] == 'x';
  for (int i = 0; i < 100; i++) intact &= mine[i] == 'm';
  check(intact, "memory around the hostile calls is intact");
  for (int i = 0; i < 1000; i++) {
    char *p = malloc((size_t)(i * 37 % 20000) + 1);
    check(p != NULL, "malloc after the hostile calls");
    if (p) p[0] = 1;
    free(p);
  }
  free(mine);
  printf("hostile: %d failures, %d foreign frees\n", failures, nforeign);
  return failures ? 1 : 0;
}

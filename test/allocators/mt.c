/* A multithreaded exercise of an allocator: 4 threads allocating with every
 * entry point, handing half their blocks to the next thread to free (cross-
 * thread frees), checking contents, alignment, zeroing and usable sizes.
 * Exit status 0 means every check passed. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define ROUNDS 20000
#define HANDOFF 256

static _Atomic(void *) mailbox[THREADS][HANDOFF];
static atomic_int failures;

static void check(int ok, const char *what) {
  if (!ok) {
    atomic_fetch_add(&failures, 1);
    fprintf(stderr, "mt: check failed: %s\n", what);
  }
}

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  unsigned seed = 1234u + (unsigned)t;
  void *mine[64] = {0};
  for (int r = 0; r < ROUNDS; r++) {
    size_t n = 1 + (size_t)(rand_r(&seed) % (r % 100 == 0 ? 100000 : 2000));
    int slot = rand_r(&seed) % 64;
    if (mine[slot]) {
      check(((unsigned char *)mine[slot])[0] == (unsigned char)t, "block contents kept");
      /* Half the time, hand the block to the next thread to free. */
      void *prev = NULL;
      if (r & 1) prev = atomic_exchange(&mailbox[(t + 1) % THREADS][slot % HANDOFF], mine[slot]);
      else free(mine[slot]);
      free(prev);
      mine[slot] = NULL;
      continue;
    }
    void *p = NULL;
    switch (r % 6) {
    case 0: p = malloc(n); break;
    case 1: {
      p = calloc(1, n);
      int zero = 1;
      for (size_t i = 0; p && i < n; i++) zero &= ((unsigned char *)p)[i] == 0;
      check(zero, "calloc zeroes");
      break;
    }
    case 2: p = memalign(64, n); check(((uintptr_t)p & 63) == 0, "memalign 64"); break;
    case 3: check(posix_memalign(&p, 4096, n) == 0 && ((uintptr_t)p & 4095) == 0, "posix_memalign 4096"); break;
    case 4: p = realloc(malloc(n / 2 + 1), n); break;
    case 5: p = aligned_alloc(32, (n + 31) & ~(size_t)31); check(((uintptr_t)p & 31) == 0, "aligned_alloc 32"); break;
    }
    check(p != NULL, "allocation succeeds");
    if (!p) continue;
    check(((uintptr_t)p & 15) == 0, "16-byte alignment");
    check(malloc_usable_size(p) >= n, "usable size covers the request");
    memset(p, t, n);
    mine[slot] = p;
  }
  for (int s = 0; s < 64; s++) free(mine[s]);
  return NULL;
}

int main(void) {
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < THREADS; t++)
    for (int s = 0; s < HANDOFF; s++) free(atomic_load(&mailbox[t][s]));
  printf("mt: %d failures\n", atomic_load(&failures));
  return atomic_load(&failures) ? 1 : 0;
}

/* A program with a known allocation sequence, for the recorder's tests.
 *   prog sequence : threads run one after another (so the order is known),
 *                   with realloc, aligned allocations and cross-thread frees;
 *                   every block is 1000..1999 bytes so the test can tell them
 *                   from the C library's own allocations.
 *   prog stress T N: T threads × N operations with cross-thread frees, then
 *                   a fork whose child allocates too; prints its own counts:
 *                   "parent M F" and "child M F" (mallocs, frees), sizes
 *                   3000..3999. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *shared[4];
/* Blocks pass through here so the compiler cannot elide a malloc/free pair. */
static void *volatile sink;

static void *first(void *arg) {
  (void)arg;
  void *a = malloc(1001);
  void *b = calloc(2, 1002);
  void *c = memalign(64, 1003);
  void *d = NULL;
  if (posix_memalign(&d, 128, 1004)) return NULL;
  void *e = aligned_alloc(256, 1280);
  a = realloc(a, 1500);
  sink = b;
  free(sink);
  shared[0] = a;
  shared[1] = c;
  shared[2] = d;
  shared[3] = e;
  return NULL;
}

static void *second(void *arg) {
  (void)arg;
  /* Cross-thread frees of what `first` made, and a realloc of its block. */
  free(shared[1]);
  free(shared[2]);
  shared[0] = realloc(shared[0], 1900);
  free(shared[3]);
  free(shared[0]);
  return NULL;
}

static atomic_long mallocs, frees;
static _Atomic(void *) box[64];
static long per_thread;

static void *stress(void *arg) {
  unsigned seed = (unsigned)(long)arg;
  void *mine[32] = {0};
  for (long i = 0; i < per_thread; i++) {
    int s = rand_r(&seed) % 32;
    if (mine[s]) {
      /* Half the frees go through a mailbox: another thread frees them. */
      void *old = (i & 1) ? atomic_exchange(&box[rand_r(&seed) % 64], mine[s]) : mine[s];
      if (old) free(old), atomic_fetch_add(&frees, 1);
      mine[s] = NULL;
    } else {
      mine[s] = malloc(3000 + (size_t)(rand_r(&seed) % 1000));
      atomic_fetch_add(&mallocs, 1);
    }
  }
  for (int s = 0; s < 32; s++)
    if (mine[s]) free(mine[s]), atomic_fetch_add(&frees, 1);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "sequence")) {
    pthread_t t;
    pthread_create(&t, NULL, first, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, second, NULL);
    pthread_join(t, NULL);
    return 0;
  }
  int threads = argc > 2 ? atoi(argv[2]) : 8;
  per_thread = argc > 3 ? atol(argv[3]) : 200000;
  pthread_t th[64];
  for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, stress, (void *)(long)(i + 1));
  for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 64; i++) {
    void *p = atomic_exchange(&box[i], NULL);
    if (p) free(p), atomic_fetch_add(&frees, 1);
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    long m = 0, f = 0;
    for (int i = 0; i < 1000; i++) {
      sink = malloc(3500);
      m++;
      free(sink);
      f++;
    }
    printf("child %ld %ld\n", m, f);
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  printf("parent %ld %ld\n", atomic_load(&mallocs), atomic_load(&frees));
  return 0;
}

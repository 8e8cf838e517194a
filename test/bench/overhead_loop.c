/* The overhead reference: the smallest loop that makes the same allocator
 * calls as a serial replay of a plan (malloc/free only), timed the same way.
 * Prints ns/op of the best of `reps` runs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct op { uint8_t op, pad; uint16_t thread; uint32_t obj; uint64_t size, arg; };
/* A plan record (engine/native/plan.h); the benchmark's traces have no wide sizes. */
struct rec { uint8_t op, aux; uint16_t thread; uint32_t obj, size; };

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st)) return 2;
  const char *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  uint64_t nops = *(const uint64_t *)(map + 16), nobj = *(const uint64_t *)(map + 24);
  /* Expanded before timing, as the driver's ops are, with each object in a
   * slot reused once it is freed, as the driver's streamed plan has them
   * (engine/native/stream.c): the slot table is the live set's size. */
  const struct rec *recs = (const struct rec *)(map + 64);
  struct op *ops = mmap(NULL, nops * sizeof *ops, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  uint32_t *slot_of = calloc(nobj + 1, sizeof *slot_of), *spare = calloc(nobj + 1, sizeof *spare), nspare = 0, next = 1;
  for (uint64_t i = 0; i < nops; i++) {
    uint32_t id = recs[i].obj, s = 0;
    if (recs[i].op == 4) {
      s = slot_of[id];
      if (s) spare[nspare++] = s;
    } else if (id) {
      s = slot_of[id] = nspare ? spare[--nspare] : next++;
    }
    ops[i] = (struct op){recs[i].op, 0, recs[i].thread, s, recs[i].size, 0};
  }
  free(slot_of);
  free(spare);
  void **slots = mmap(NULL, (size_t)next * sizeof(void *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  int reps = atoi(argv[2]);
  double best = 1e30;
  for (int r = 0; r <= reps; r++) { /* r == 0 is the warm-up */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (uint64_t i = 0; i < nops; i++) {
      const struct op *o = &ops[i];
      if (o->op == 4) free(slots[o->obj]);
      else slots[o->obj] = malloc(o->size);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    if (r > 0 && ns < best) best = ns;
  }
  printf("%.4f\n", best / (double)nops);
  return 0;
}

/* Frees one block twice: the second free breaks "a block goes back to its
 * slab only while it is out" (tinyslab.h), which a debug build stops. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  void *p = malloc(16);
  free(p);
  free(p);
  puts("double free: not caught");
  return 0;
}

/* Prints the op codes as the C side defines them, one `NAME value` per line:
 * the recorder's stream (raw_log.h, R_*, which convert.c writes into traces
 * as they are) and the driver's plan (plan.h, AR_*). test/traces/opcodes.test.ts
 * compares both with the trace format's `Op` (traces/model.ts). */
#include <stdio.h>

#include "../../../engine/native/plan.h"
#include "../../../traces/native/raw_log.h"

#define SHOW(code) printf("%s %d\n", #code, (int)(code))

int main(void) {
  SHOW(R_MALLOC);
  SHOW(R_CALLOC);
  SHOW(R_REALLOC);
  SHOW(R_FREE);
  SHOW(R_MEMALIGN);
  SHOW(R_POSIX_MEMALIGN);
  SHOW(R_ALIGNED_ALLOC);
  SHOW(R_VALLOC);
  SHOW(R_PVALLOC);
  SHOW(R_THREAD_EXIT);
  SHOW(AR_MALLOC);
  SHOW(AR_CALLOC);
  SHOW(AR_REALLOC);
  SHOW(AR_FREE);
  SHOW(AR_MEMALIGN);
  SHOW(AR_POSIX_MEMALIGN);
  SHOW(AR_ALIGNED_ALLOC);
  SHOW(AR_VALLOC);
  SHOW(AR_PVALLOC);
  SHOW(AR_THREAD_EXIT);
  return 0;
}

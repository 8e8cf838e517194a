/* Prints the op codes as the C side defines them, one `NAME value` per line:
 * the trace writer's (trace_out.h, TRACE_OP_*), the recorder's stream
 * (raw_log.h, R_*, which convert.c writes into traces as they are, asserting
 * they equal TRACE_OP_*) and the driver's plan (plan.h, AR_*).
 * test/traces/opcodes.test.ts compares all three with the trace format's
 * `Op` (traces/vocabulary.ts). */
#include <stdio.h>

#include "../../../engine/native/plan.h"
#include "../../../traces/native/raw_log.h"
#include "../../../traces/native/trace_out.h"

#define SHOW(code) printf("%s %d\n", #code, (int)(code))

int main(void) {
  SHOW(TRACE_OP_MALLOC);
  SHOW(TRACE_OP_CALLOC);
  SHOW(TRACE_OP_REALLOC);
  SHOW(TRACE_OP_FREE);
  SHOW(TRACE_OP_MEMALIGN);
  SHOW(TRACE_OP_POSIX_MEMALIGN);
  SHOW(TRACE_OP_ALIGNED_ALLOC);
  SHOW(TRACE_OP_VALLOC);
  SHOW(TRACE_OP_PVALLOC);
  SHOW(TRACE_OP_THREAD_EXIT);
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

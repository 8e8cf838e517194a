/* Prints the plan layout as plan.h defines it, one `name value` per line,
 * for test/engine/plan.test.ts to compare with engine/plan/layout.ts. */
#include <stddef.h>
#include <stdio.h>

#include "../../../engine/native/plan.h"

int main(void) {
  printf("magic %s\n", AR_PLAN_MAGIC);
  printf("version %u\n", AR_PLAN_VERSION);
  printf("maxThreads %u\n", AR_PLAN_MAX_THREADS);
  printf("header.bytes %zu\n", sizeof(struct ar_plan_header));
  printf("header.version %zu\n", offsetof(struct ar_plan_header, version));
  printf("header.threads %zu\n", offsetof(struct ar_plan_header, threads));
  printf("header.nops %zu\n", offsetof(struct ar_plan_header, nops));
  printf("header.nobjects %zu\n", offsetof(struct ar_plan_header, nobjects));
  printf("header.fileBytes %zu\n", offsetof(struct ar_plan_header, file_bytes));
  printf("op.bytes %zu\n", sizeof(struct ar_op));
  printf("op.op %zu\n", offsetof(struct ar_op, op));
  printf("op.thread %zu\n", offsetof(struct ar_op, thread));
  printf("op.obj %zu\n", offsetof(struct ar_op, obj));
  printf("op.size %zu\n", offsetof(struct ar_op, size));
  printf("op.arg %zu\n", offsetof(struct ar_op, arg));
  printf("op.sizeBits %zu\n", sizeof(((struct ar_op *)0)->size) * 8);
  printf("op.threadBits %zu\n", sizeof(((struct ar_op *)0)->thread) * 8);
  printf("op.objBits %zu\n", sizeof(((struct ar_op *)0)->obj) * 8);
  return 0;
}

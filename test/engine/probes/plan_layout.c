/* Prints the plan layout as plan.h defines it, one `name value` per line,
 * for test/engine/plan.test.ts to compare with engine/plan/layout.ts. */
#include <stddef.h>
#include <stdint.h>
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
  printf("header.nwide %zu\n", offsetof(struct ar_plan_header, nwide));
  printf("header.ngaps %zu\n", offsetof(struct ar_plan_header, ngaps));
  printf("header.nslots %zu\n", offsetof(struct ar_plan_header, nslots));
  printf("header.nslotOps %zu\n", offsetof(struct ar_plan_header, nslot_ops));
  printf("gap.bytes %zu\n", sizeof(*((struct ar_plan *)0)->pace_ns));
  printf("gap.max %u\n", UINT32_MAX);
  printf("slot.bytes %zu\n", sizeof(*((struct ar_plan_file *)0)->slot));
  printf("slot.maxOps %u\n", AR_PLAN_SLOT_MAX_OPS);
  printf("rec.bytes %zu\n", sizeof(struct ar_plan_rec));
  printf("rec.op %zu\n", offsetof(struct ar_plan_rec, op));
  printf("rec.aux %zu\n", offsetof(struct ar_plan_rec, aux));
  printf("rec.thread %zu\n", offsetof(struct ar_plan_rec, thread));
  printf("rec.obj %zu\n", offsetof(struct ar_plan_rec, obj));
  printf("rec.size %zu\n", offsetof(struct ar_plan_rec, size));
  printf("rec.wideSize %u\n", AR_REC_WIDE_SIZE);
  printf("rec.alignMask %u\n", AR_REC_ALIGN_MASK);
  printf("op.bytes %zu\n", sizeof(struct ar_op));
  printf("op.op %zu\n", offsetof(struct ar_op, op));
  printf("op.thread %zu\n", offsetof(struct ar_op, thread));
  printf("op.obj %zu\n", offsetof(struct ar_op, obj));
  printf("op.size %zu\n", offsetof(struct ar_op, size));
  printf("op.arg %zu\n", offsetof(struct ar_op, arg));
  printf("rec.sizeBits %zu\n", sizeof(((struct ar_plan_rec *)0)->size) * 8);
  printf("rec.threadBits %zu\n", sizeof(((struct ar_plan_rec *)0)->thread) * 8);
  printf("rec.objBits %zu\n", sizeof(((struct ar_plan_rec *)0)->obj) * 8);
  /* Where the sections start for a few counts (nops, ngaps, nslot_ops, nwide): odd and even, with and without each. */
  static const uint64_t counts[][4] = {{0, 0, 0, 0}, {1, 1, 1, 0}, {3, 0, 3, 5}, {5, 5, 5, 2}, {7, 7, 0, 1}, {2, 0, 0, 3}};
  for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
    const struct ar_plan_sections s = ar_plan_sections(counts[k][0], counts[k][1], counts[k][2], counts[k][3]);
    printf("sections.%zu %llu %llu %llu %llu %llu\n", k, (unsigned long long)s.recs, (unsigned long long)s.gap, (unsigned long long)s.slot,
           (unsigned long long)s.wide, (unsigned long long)s.end);
  }
  return 0;
}

/**
 * The replay plan's binary layout, as engine/native/plan.h defines it. The
 * planner writes it; the driver maps it. test/engine/plan-layout.test.ts
 * compiles a probe against plan.h and checks every number here.
 */
export const PLAN_LAYOUT = {
  magic: 'ARPLAN02',
  version: 2,
  maxThreads: 65536,
  header: { bytes: 64, version: 8, threads: 12, nops: 16, nobjects: 24, fileBytes: 32 },
  op: { bytes: 24, op: 0, thread: 2, obj: 4, size: 8, arg: 16 },
} as const;

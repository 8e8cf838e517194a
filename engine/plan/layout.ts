/**
 * The replay plan's binary layout, as engine/native/plan.h defines it. The
 * planner (engine/native/planner.c) writes it; the driver streams or expands
 * it (engine/native/stream.c, plan.c). test/engine/plan.test.ts compiles a
 * probe against plan.h and checks every number here.
 */
export const PLAN_LAYOUT = {
  magic: 'ARPLAN05',
  version: 5,
  maxThreads: 65536,
  header: { bytes: 64, version: 8, threads: 12, nops: 16, nobjects: 24, fileBytes: 32, nwide: 40, ngaps: 48, nslots: 56, nslotOps: 60 },
  /** The optional per-op section after wide[]: the recorded ns before each op (uint32, saturated). */
  gap: { bytes: 4, max: 0xffffffff },
  /**
   * The optional per-op section after gap[]: the slot of the object op i makes or ends (uint32; a realloc's
   * old object's, which its new one takes over). Written when the plan has fewer than `maxOps` ops.
   */
  slot: { bytes: 4, maxOps: 0xffffffff },
  /** One op on disk; `aux` holds AR_REC_WIDE_SIZE and an alignment's log2. */
  rec: { bytes: 12, op: 0, aux: 1, thread: 2, obj: 4, size: 8, wideSize: 0x80, alignMask: 0x3f },
  /** One op as the driver runs it, after loading. */
  op: { bytes: 24, op: 0, thread: 2, obj: 4, size: 8, arg: 16 },
} as const;

/**
 * The replay plan's binary layout, as engine/native/plan.h defines it. The
 * planner (engine/native/planner.c) writes it; the driver streams or expands
 * it (engine/native/stream.c, plan.c). test/engine/plan.test.ts compiles a
 * probe against plan.h and checks every number here.
 */
export const PLAN_LAYOUT = {
  magic: 'ARPLAN06',
  version: 6,
  maxThreads: 65536,
  header: { bytes: 64, version: 8, threads: 12, nops: 16, nobjects: 24, fileBytes: 32, nwide: 40, ngaps: 48, nslots: 56, nslotOps: 60 },
  /** The optional per-op section after the records: the recorded ns before each op (uint32, saturated). */
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

/** Byte offsets of a plan's sections from its header's counts (plan.h's ar_plan_sections); `end` is the file's size. */
export function planSections(nops: number, ngaps: number, nslotOps: number, nwide: number): { recs: number; gap: number; slot: number; wide: number; end: number } {
  const pad8 = (x: number): number => Math.ceil(x / 8) * 8;
  const recs = PLAN_LAYOUT.header.bytes;
  const gap = pad8(recs + nops * PLAN_LAYOUT.rec.bytes);
  const slot = gap + ngaps * PLAN_LAYOUT.gap.bytes;
  const wide = pad8(slot + nslotOps * PLAN_LAYOUT.slot.bytes);
  return { recs, gap, slot, wide, end: wide + nwide * 8 };
}

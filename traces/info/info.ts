import { LiveTable, openTrace, type TraceProducer } from '../format/index.js';
import { Op, OP_NAMES, type OpName } from '../vocabulary.js';

/** What `trace info` tells about a trace. */
export interface TraceInfo {
  path: string;
  producer: TraceProducer;
  events: number;
  objects: number;
  threads: number;
  byOp: Partial<Record<OpName, number>>;
  /** Requests by power-of-two bucket: key `2^k` counts sizes in [2^(k-1)+1, 2^k] (`0` for zero). */
  sizeHistogram: Record<string, number>;
  peakLiveObjects: number;
  peakLiveBytes: number;
  crossThreadFrees: number;
  freesOfNull: number;
  failedAllocations: number;
  bytesOnDisk: number;
  bytesPerEvent: number;
  /** Live bytes sampled at evenly spaced events (about 60 points). */
  liveBytesSeries: number[];
  checksum: string | undefined;
  warnings: string[];
}

/** Power-of-two bucket of a size: k such that the size is in [2^(k-1)+1, 2^k]; −1 for size 0. */
function bucket(size: number): number {
  return size === 0 ? -1 : Math.ceil(Math.log2(size));
}

/** Points the live-bytes series keeps at most; it halves its resolution when full. */
const SERIES_POINTS = 120;

/** Reads (and so validates) a whole trace and summarises it; memory follows the live set. */
export function traceInfo(path: string): TraceInfo {
  const r = openTrace(path);
  const counts = new Float64Array(OP_NAMES.length + 1);
  // Index k + 1 counts bucket k (index 0: size 0); sizes are below 2^53.
  const hist = new Float64Array(56);
  // Who made each live object, and its bytes: for cross-thread frees and the live-bytes series.
  const owners = new LiveTable();
  let liveBytes = 0;
  let cross = 0;
  let nullFrees = 0;
  let failed = 0;
  let every = 1;
  let seen = 0;
  let series: number[] = [];
  const end = (id: number, th: number): void => {
    const slot = owners.find(id);
    if (owners.ownerAt(slot) !== th) cross++;
    liveBytes -= owners.sizeAt(slot);
    owners.removeAt(slot);
  };
  for (const c of r.chunks()) {
    for (let i = 0; i < c.length; i++) {
      const op = c.op[i]!;
      const obj = c.object[i]!;
      const th = c.thread[i]!;
      const size = c.size[i]!;
      const arg = c.arg[i]!;
      counts[op]!++;
      if (op === Op.free) {
        if (obj === 0) nullFrees++;
        else end(obj, th);
      } else if (op !== Op.thread_exit) {
        hist[bucket(size) + 1]!++;
        if (obj === 0) failed++;
        // The reader has checked the rules: a realloc that made nothing for a non-zero size left its object live.
        if (op === Op.realloc && arg !== 0 && (obj !== 0 || size === 0)) end(arg, th);
        if (obj !== 0) {
          const bytes = op === Op.calloc ? size * arg : size;
          owners.set(obj, bytes, th);
          liveBytes += bytes;
        }
      }
      if (++seen % every === 0) {
        series.push(liveBytes);
        if (series.length === SERIES_POINTS) {
          series = series.filter((_, k) => k % 2 === 1);
          every *= 2;
        }
      }
    }
  }
  const live = r.live;
  const byOp: Partial<Record<OpName, number>> = {};
  for (let k = 1; k <= OP_NAMES.length; k++) if (counts[k]) byOp[OP_NAMES[k - 1]!] = counts[k]!;
  const sizeHistogram: Record<string, number> = {};
  hist.forEach((count, i) => {
    if (count) sizeHistogram[i === 0 ? '0' : `2^${i - 1}`] = count;
  });
  return {
    path,
    producer: r.header.producer,
    events: live.events,
    objects: live.nextId - 1,
    threads: live.threads,
    byOp,
    sizeHistogram,
    peakLiveObjects: live.peakLiveObjects,
    peakLiveBytes: live.peakLiveBytes,
    crossThreadFrees: cross,
    freesOfNull: nullFrees,
    failedAllocations: failed,
    bytesOnDisk: r.bytes,
    bytesPerEvent: live.events ? r.bytes / live.events : 0,
    liveBytesSeries: series,
    // The identity is the content's checksum, and only a whole trace has one.
    checksum: r.footer ? r.checksum : undefined,
    warnings: r.warnings,
  };
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line unicode sparkline of a series. */
export function sparkline(values: number[]): string {
  if (values.length === 0) return '';
  let max = -Infinity;
  let min = Infinity;
  for (const v of values) {
    if (v > max) max = v;
    if (v < min) min = v;
  }
  const span = max - min || 1;
  return values.map((v) => BARS[Math.min(7, Math.floor(((v - min) / span) * 8))]).join('');
}

/** Human units for bytes: `1.5 MiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** The text `trace info` prints. */
export function renderTraceInfo(i: TraceInfo): string {
  const lines: string[] = [];
  const p = i.producer;
  const params = p.params ? Object.entries(p.params).map(([k, v]) => `${k}=${v}`).join(' ') : (p.command ?? []).join(' ');
  lines.push(`${i.path}`);
  // A recorder names itself after its kind ("record"): say it once.
  const producer = p.name && p.name !== p.kind ? `${p.kind} ${p.name}` : p.kind;
  lines.push(`  producer      ${producer}${params ? ` (${params})` : ''}`);
  lines.push(`  events        ${i.events.toLocaleString('en-US')}   objects ${i.objects.toLocaleString('en-US')}   threads ${i.threads}`);
  lines.push(`  by op         ${Object.entries(i.byOp).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`);
  lines.push(`  peak live     ${i.peakLiveObjects.toLocaleString('en-US')} objects, ${formatBytes(i.peakLiveBytes)}`);
  lines.push(`  cross-thread  ${i.crossThreadFrees.toLocaleString('en-US')} frees   free(NULL) ${i.freesOfNull}   failed allocations ${i.failedAllocations}`);
  lines.push(`  on disk       ${formatBytes(i.bytesOnDisk)}, ${i.bytesPerEvent.toFixed(2)} bytes/event`);
  lines.push(`  live bytes    ${sparkline(i.liveBytesSeries)}`);
  lines.push('  sizes');
  const max = Math.max(1, ...Object.values(i.sizeHistogram));
  for (const [k, v] of Object.entries(i.sizeHistogram)) {
    const label = k === '0' ? '0' : `≤ ${formatBytes(2 ** Number(k.slice(2)))}`;
    lines.push(`    ${label.padStart(10)} ${'█'.repeat(Math.max(1, Math.round((v / max) * 40)))} ${v.toLocaleString('en-US')}`);
  }
  return lines.join('\n');
}

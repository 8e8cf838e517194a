import { type TraceFooter, type TraceProducer, openTrace } from '../format/index.js';
import { LiveSet } from '../format/live.js';
import { Op, OP_NAMES, type OpName } from '../model.js';

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

function bucket(size: number): string {
  if (size === 0) return '0';
  return `2^${Math.ceil(Math.log2(size))}`;
}

/** Reads (and so validates) a whole trace and summarises it. */
export function traceInfo(path: string): TraceInfo {
  const r = openTrace(path);
  const byOp: Partial<Record<OpName, number>> = {};
  const counts = new Float64Array(OP_NAMES.length + 1);
  const hist = new Map<string, number>();
  const live = new LiveSet(path);
  const owner: number[] = [];
  let cross = 0;
  let nullFrees = 0;
  let failed = 0;
  const total = r.footer?.events ?? 0;
  const every = Math.max(1, Math.ceil(total / 60));
  const series: number[] = [];
  for (const c of r.chunks()) {
    for (let i = 0; i < c.length; i++) {
      const op = c.op[i]!;
      const obj = c.object[i]!;
      const th = c.thread[i]!;
      counts[op]!++;
      if (op === Op.free) {
        if (obj === 0) nullFrees++;
        else if (owner[obj] !== th) cross++;
      } else if (op !== Op.thread_exit) {
        const sz = c.size[i]!;
        const key = bucket(sz);
        hist.set(key, (hist.get(key) ?? 0) + 1);
        if (obj === 0) failed++;
        else owner[obj] = th;
        if (op === Op.realloc && c.arg[i]! !== 0 && owner[c.arg[i]!] !== th && obj !== 0) cross++;
      }
      live.apply(op, th, obj, c.size[i]!, c.arg[i]!);
      if (live.events % every === 0) series.push(live.liveBytes);
    }
  }
  for (let k = 1; k <= OP_NAMES.length; k++) if (counts[k]) byOp[OP_NAMES[k - 1]!] = counts[k]!;
  const sizeHistogram: Record<string, number> = {};
  const order = (k: string): number => (k === '0' ? -1 : Number(k.slice(2)));
  for (const k of [...hist.keys()].sort((a, b) => order(a) - order(b))) sizeHistogram[k] = hist.get(k)!;
  const f: TraceFooter | undefined = r.footer;
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
    checksum: f?.checksum,
    warnings: r.warnings,
  };
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line unicode sparkline of a series. */
export function sparkline(values: number[]): string {
  if (values.length === 0) return '';
  const max = Math.max(...values);
  const min = Math.min(...values);
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

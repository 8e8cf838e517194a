import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { failure } from '../errors.js';
import type { TraceFooter } from '../format/index.js';
import { Op } from '../model.js';
import { compileNative } from '../native-build.js';
import { packagePath } from '../paths.js';
import { type ConversionCounts, PointerTracker } from './pointers.js';

export { PointerTracker, type ConversionCounts } from './pointers.js';

const REC = 40;
const BLOCK = 32;

/** The recorder shim, compiled on first use and cached. */
export function recorderPath(): string {
  return compileNative({ name: 'librecorder.so', sources: [packagePath('traces', 'native', 'recorder.c')], deps: [packagePath('traces', 'native', 'ar_text.h')], shared: true, ldflags: ['-ldl', '-lpthread'] });
}

export interface RecordedTrace {
  pid: number;
  path: string;
  footer: TraceFooter;
  counts: ConversionCounts;
  threads: number;
}

export interface RecordResult {
  /** The command's exit status (128 + signal when killed). */
  status: number;
  wallMs: number;
  traces: RecordedTrace[];
  /** Images whose logs were not kept (a shell that exec'd the command). */
  droppedImages: number;
}

/**
 * Converts one raw log (one process image) into a v1 trace. Records are
 * placed by sequence number, so threads' buffers interleave as they ran.
 */
export function convertRawLog(raw: string, out: string, command: string[]): RecordedTrace & { events: number } {
  const buf = readFileSync(raw);
  const u64 = (off: number): number => buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 4294967296;
  // Blocks of one thread's records: find every record and its thread.
  const at: number[] = [];
  const tidOf: number[] = [];
  // Calibration points (stamp, ns) from the block headers.
  const cal: [number, number][] = [];
  for (let off = 0; off + BLOCK <= buf.length; ) {
    if (buf.readUInt32LE(off) !== 0x32425241) break; // a torn tail (killed mid-write) ends the log
    const tid = buf.readUInt32LE(off + 4);
    const count = buf.readUInt32LE(off + 8);
    cal.push([u64(off + 16), u64(off + 24)]);
    off += BLOCK;
    for (let k = 0; k < count && off + REC <= buf.length; k++, off += REC) {
      at.push(off);
      tidOf.push(tid);
    }
  }
  // Stamps to ns: a line through the first and last calibration points.
  const [s0, n0] = cal[0] ?? [0, 0];
  const [s1, n1] = cal.at(-1) ?? [0, 0];
  const perStamp = s1 > s0 && n1 > n0 ? (n1 - n0) / (s1 - s0) : 1;
  const toNs = (st: number): number => Math.round(n0 + (st - s0) * perStamp);
  // seq_op = seq * 256 + op: records go back into the order they happened.
  let minSeq = Number.MAX_SAFE_INTEGER;
  let maxSeq = 0;
  const seqs = at.map((o) => Math.floor(u64(o) / 256));
  for (const s of seqs) {
    if (s < minSeq) minSeq = s;
    if (s > maxSeq) maxSeq = s;
  }
  const slot = new Int32Array(at.length ? maxSeq - minSeq + 1 : 0).fill(-1);
  seqs.forEach((s, i) => (slot[s - minSeq] = i));
  const tracker = new PointerTracker(out, { producer: { kind: 'record', name: 'record', command }, hasTime: true, created: new Date().toISOString(), host: hostname() });
  const tids = new Set<number>();
  try {
    for (const i of slot) {
      if (i < 0) continue;
      const o = at[i]!;
      const op = buf[o]!;
      const ns = toNs(u64(o + 8));
      const ptr = u64(o + 16);
      const size = u64(o + 24);
      const arg = u64(o + 32);
      const tid = tidOf[i]!;
      tids.add(tid);
      if (op === Op.free) tracker.free(tid, ptr, ptr === 0, ns);
      else if (op === Op.realloc) tracker.realloc(tid, arg, arg === 0, ptr, ptr === 0, size, ns);
      else if (op === Op.thread_exit) tracker.threadExit(tid, ns);
      else tracker.alloc(op, tid, ptr, ptr === 0, size, arg, ns);
    }
    const footer = tracker.close();
    return { pid: 0, path: out, footer, counts: tracker.counts, threads: tids.size, events: footer.events };
  } catch (e) {
    tracker.abort();
    throw e;
  }
}

/** Runs a command under the recorder and turns its logs into traces. */
export async function record(cmd: string, args: string[], opts: { out: string; followForks?: boolean; onConvert?: (what: string) => void }): Promise<RecordResult> {
  const lib = recorderPath();
  const dir = mkdtempSync(join(tmpdir(), 'allocreplay-rec-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ALLOCREPLAY_RECORD_DIR: dir,
    ALLOCREPLAY_RECORD_FORKS: opts.followForks ? '1' : '0',
    LD_PRELOAD: [lib, process.env.LD_PRELOAD].filter(Boolean).join(' '),
  };
  const started = Date.now();
  // The shell learns the command's pid ($$, kept by exec) so that only that
  // process (and, with --follow-forks, its children) records.
  const child = spawn('/bin/sh', ['-c', 'ALLOCREPLAY_RECORD_PID=$$ exec "$@"', 'allocreplay-record', cmd, ...args], { env, stdio: 'inherit' });
  const status = await new Promise<number>((res, rej) => {
    child.on('error', (e) => rej(failure(`cannot run ${cmd}: ${e.message}`, 'check the command')));
    child.on('close', (code, signal) => res(code ?? 128 + (signal ? 15 : 0)));
  });
  const wallMs = Date.now() - started;
  const rootPid = child.pid!;
  // raw-<pid>-<ns>.bin: one per process image; the last image of each process is its program.
  const logs = readdirSync(dir)
    .map((f) => /^raw-(\d+)-(\d+)\.bin$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: join(dir, m[0]), pid: Number(m[1]), ns: BigInt(m[2]!) }));
  const byPid = new Map<number, typeof logs>();
  for (const l of logs) byPid.set(l.pid, [...(byPid.get(l.pid) ?? []), l]);
  const traces: RecordedTrace[] = [];
  let droppedImages = 0;
  const pids = [...byPid.keys()].sort((a, b) => (a === rootPid ? -1 : b === rootPid ? 1 : a - b));
  for (const pid of pids) {
    if (pid !== rootPid && !opts.followForks) continue;
    const images = byPid.get(pid)!.sort((a, b) => (a.ns < b.ns ? -1 : 1));
    droppedImages += images.length - 1;
    const last = images.at(-1)!;
    const out = pid === rootPid ? opts.out : opts.out.replace(/(\.trace\.msgpack)?$/, `.${pid}.trace.msgpack`);
    opts.onConvert?.(`converting pid ${pid}`);
    const t = convertRawLog(last.file, out, [cmd, ...args]);
    traces.push({ ...t, pid });
  }
  rmSync(dir, { recursive: true, force: true });
  return { status, wallMs, traces, droppedImages };
}

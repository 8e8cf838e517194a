import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, existsSync, constants as fsConstants, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { constants, hostname, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { failure } from '../platform/errors.js';
import { encodeHeader, type TraceFooter } from '../format/index.js';
import { compileNative } from '../platform/native-build.js';
import { packagePath } from '../platform/paths.js';
import { programIdentity } from '../program/index.js';
import type { ConversionCounts } from './pointers.js';

const native = (f: string): string => packagePath('traces', 'native', f);

/** The recorder shim, compiled on first use and cached. */
export function recorderPath(): string {
  return compileNative({
    name: 'librecorder.so',
    sources: ['recorder.c', 'recorder_buffer.c', 'recorder_stream.c', 'recorder_process.c', 'recorder_exec.c'].map(native),
    deps: [native('raw_log.h'), native('recorder.h')],
    shared: true,
    ldflags: ['-ldl', '-lpthread'],
  });
}

/**
 * A native program whose `main` (in traces/native/`main`) converts calls
 * into a trace through the record converter's conversion and writer
 * (convert.c, trace_out.c), compiled on first use and cached.
 */
export function conversionProgram(name: string, main: string, cflags: string[] = []): string {
  return compileNative({
    name,
    sources: [native(main), native('convert.c'), native('trace_out.c'), native('sha256.c')],
    deps: [native('raw_log.h'), native('convert.h'), native('trace_out.h'), native('u64map.h'), native('sha256.h')],
    ldflags: ['-lz', '-lpthread'],
    ...(cflags.length ? { cflags } : {}),
  });
}

/** The converter that turns the recorder's streams into traces as the program runs. */
export function converterPath(): string {
  return conversionProgram('record-converter', 'converter.c');
}

export interface RecordedTrace {
  pid: number;
  path: string;
  footer: TraceFooter;
  counts: ConversionCounts;
  threads: number;
  /** Calls recorded but not converted: made while the program was exiting, or given up on by the converter's reorder window. */
  lostRecords: number;
  /** Of those, records that arrived after their place had passed (given up on, or written twice). */
  lateRecords: number;
}

export interface RecordResult {
  /** The command's exit status (128 + signal when killed). */
  status: number;
  wallMs: number;
  traces: RecordedTrace[];
  /** Images whose streams were not kept (an image that exec'd another). */
  droppedImages: number;
  /** Every recorded process image in the order they started, and whether its trace was kept. */
  images: RecordedImage[];
  /** The converter's peak resident memory, KiB. */
  converterPeakRssKiB: number;
  /** Processes of the command that ran and were not recorded (children, without --follow-forks). */
  unrecordedProcesses: number;
}

export interface RecordedImage {
  pid: number;
  events: number;
  kept: boolean;
}

/** One finished process image, as the converter reports it. */
interface ImageLine extends Omit<TraceFooter, 'checksum'>, ConversionCounts {
  image: number;
  pid: number;
  startNs: number;
  checksum: string;
  lost: number;
  late: number;
  writeError: string;
}

function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? (constants.signals[signal] ?? 15) : 0);
}

function ended(child: ChildProcess, what: string): Promise<number> {
  return new Promise((res, rej) => {
    child.once('error', (e) => rej(failure(`cannot run ${what}: ${e.message}`, 'check the command exists and is executable')));
    child.once('close', (code, signal) => res(exitStatus(code, signal)));
  });
}

/**
 * Runs a command under the recorder. The command's arguments pass through
 * untouched (no shell). Its calls stream to the native converter, which
 * writes one trace per recorded process image while the program runs; the
 * last image of each process is its program, the others are dropped.
 */
export async function record(cmd: string, args: string[], opts: { out: string; followForks?: boolean; onConvert?: (what: string) => void; env?: Record<string, string> }): Promise<RecordResult> {
  const out = resolve(opts.out);
  try {
    accessSync(dirname(out), fsConstants.W_OK);
  } catch (e) {
    throw failure(`cannot write ${opts.out}: ${(e as Error).message}`, 'check the directory exists and is writable');
  }
  const lib = recorderPath();
  const converter = converterPath();
  const dir = mkdtempSync(join(tmpdir(), 'allocreplay-rec-'));
  // Parts are written beside the output so that moving them into place is a rename.
  const prefix = join(dirname(out), `.${basename(out)}.rec${process.pid}`);
  const removeParts = (): void => {
    for (const f of readdirSync(dirname(out))) if (f.startsWith(basename(prefix))) rmSync(join(dirname(out), f), { force: true });
  };
  const headerPath = join(dir, 'header');
  const program = programIdentity([cmd, ...args], process.cwd(), { ...process.env, ...opts.env });
  writeFileSync(headerPath, encodeHeader({ producer: { kind: 'record', name: 'record', command: [cmd, ...args] }, hasTime: true, created: new Date().toISOString(), host: hostname(), program }));
  const sock = join(dir, 'sock');
  // Each process the recorder saw but did not record appends its pid here (recorder_process.c note_unrecorded).
  const unrecordedPath = join(dir, 'unrecorded');
  const conv = spawn(converter, [sock, headerPath, prefix], { stdio: ['pipe', 'pipe', 'inherit'] });
  const convEnded = ended(conv, 'the record converter');
  const images: ImageLine[] = [];
  let peakKiB = 0;
  const lines = createInterface({ input: conv.stdout! });
  const ready = new Promise<void>((res) => {
    lines.on('line', (l) => {
      if (l === 'ready') return res();
      const o = JSON.parse(l) as ImageLine & { done?: boolean; maxRssKiB?: number };
      if (o.done) peakKiB = o.maxRssKiB ?? 0;
      else images.push(o);
    });
  });
  let status: number;
  let rootPid = 0;
  const started = Date.now();
  try {
    await Promise.race([ready, convEnded.then((s) => Promise.reject(failure(`the record converter exited (${s}) before it was ready`, 'see the message above')))]);
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...opts.env,
      ALLOCREPLAY_RECORD_SOCK: sock,
      ALLOCREPLAY_RECORD_PPID: String(process.pid),
      ALLOCREPLAY_RECORD_FORKS: opts.followForks ? '1' : '0',
      ALLOCREPLAY_RECORD_UNRECORDED: unrecordedPath,
      LD_PRELOAD: [lib, process.env.LD_PRELOAD].filter(Boolean).join(' '),
    };
    const child = spawn(cmd, args, { env, stdio: 'inherit' });
    rootPid = child.pid ?? 0;
    // Ctrl-C reaches the program from the terminal; SIGTERM sent to us is
    // passed on. Either way the program ends and its trace is still written.
    const onInt = (): void => {};
    const onTerm = (): void => void child.kill('SIGTERM');
    process.on('SIGINT', onInt).on('SIGTERM', onTerm);
    try {
      status = await ended(child, cmd);
    } finally {
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
    }
  } catch (e) {
    conv.kill();
    await convEnded.catch(() => 0);
    removeParts();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    conv.stdin!.end();
  }
  const wallMs = Date.now() - started;
  opts.onConvert?.('finishing the traces');
  const convStatus = await convEnded;
  const unrecorded = existsSync(unrecordedPath) ? new Set(readFileSync(unrecordedPath, 'utf8').split('\n').filter(Boolean)) : new Set<string>();
  rmSync(dir, { recursive: true, force: true });
  if (convStatus !== 0) {
    removeParts();
    throw failure(`the record converter failed (exit ${convStatus})`, 'see the message above; the recorded command itself finished');
  }
  const failedWrite = images.find((i) => i.writeError);
  if (failedWrite) {
    removeParts();
    throw failure(`cannot write the trace beside ${opts.out}: ${failedWrite.writeError}`, 'check the disk has room and the directory is writable');
  }
  const placed = placeImages(images, prefix, out, rootPid, opts.followForks ?? false, removeParts);
  for (const t of placed.traces) unrecorded.delete(String(t.pid));
  return { status, wallMs, converterPeakRssKiB: peakKiB, unrecordedProcesses: unrecorded.size, ...placed };
}

/** Keeps the last image of each recorded process under its trace name. */
function placeImages(images: ImageLine[], prefix: string, out: string, rootPid: number, followForks: boolean, removeParts: () => void): { traces: RecordedTrace[]; droppedImages: number; images: RecordedImage[] } {
  const byPid = new Map<number, ImageLine[]>();
  for (const i of images) byPid.set(i.pid, [...(byPid.get(i.pid) ?? []), i]);
  const traces: RecordedTrace[] = [];
  const kept = new Set<number>();
  let droppedImages = 0;
  const pids = [...byPid.keys()].sort((a, b) => (a === rootPid ? -1 : b === rootPid ? 1 : a - b));
  for (const pid of pids) {
    if (pid !== rootPid && !followForks) continue;
    const imgs = byPid.get(pid)!.sort((a, b) => a.startNs - b.startNs);
    droppedImages += imgs.length - 1;
    const last = imgs.at(-1)!;
    const path = pid === rootPid ? out : out.replace(/(\.trace\.msgpack)?$/, `.${pid}.trace.msgpack`);
    renameSync(`${prefix}.img${last.image}.part`, path);
    kept.add(last.image);
    const footer: TraceFooter = { events: last.events, objects: last.objects, threads: last.threads, peakLiveObjects: last.peakLiveObjects, peakLiveBytes: last.peakLiveBytes, checksum: last.checksum };
    const counts: ConversionCounts = { events: last.events, nullFrees: last.nullFrees, unknownFrees: last.unknownFrees, lostFrees: last.lostFrees, failedAllocations: last.failedAllocations };
    traces.push({ pid, path, footer, counts, threads: last.threads, lostRecords: last.lost, lateRecords: last.late });
  }
  removeParts();
  const all = [...images].sort((a, b) => a.startNs - b.startNs).map((i) => ({ pid: i.pid, events: i.events, kept: kept.has(i.image) }));
  return { traces, droppedImages, images: all };
}

import { spawn } from 'node:child_process';
import { closeSync, openSync, renameSync, rmSync } from 'node:fs';
import { onInterrupt } from '../platform/cleanup.js';
import { failure, inputError } from '../platform/errors.js';
import { encodeHeader, type TraceFooter } from '../format/index.js';
import type { ConversionCounts } from '../record/pointers.js';
import { conversionProgram } from '../record/record.js';
import { checkOutput, importHeader, malformedLine, nothingImported } from './common.js';
import { openDumpSource } from './dump.js';
import type { ImportOptions, ImportResult } from './import.js';

/** The native aosp importer (traces/native/aosp_import.c), compiled on first use and cached; `cflags` for a stricter build (the tests'). */
export function aospImporterPath(cflags: string[] = []): string {
  return conversionProgram(cflags.length ? 'aosp-import-checked' : 'aosp-import', 'aosp_import.c', cflags);
}

/** The importer's last line on standard output: the footer and counts, or what went wrong. */
type Outcome =
  | (TraceFooter & ConversionCounts & { lines: number; skipped: number; error?: undefined })
  | { error: 'malformed'; line: number; problem: string; text: string }
  | { error: 'event'; event: number; message: string }
  | { error: 'write' | 'read'; message: string }
  | { error: 'memory' };

/** Runs the importer on `source`, writing `tmp`; its outcome, or a failure when it did not finish. */
function run(bin: string, args: string[], stdin: number | Buffer, undo: { kill?: () => void }): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: [typeof stdin === 'number' ? stdin : 'pipe', 'pipe', 'pipe'] });
    undo.kill = () => child.kill('SIGKILL');
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    if (typeof stdin !== 'number') {
      // The importer may stop reading early (a malformed line): the rest of the bytes are not wanted.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(stdin);
    }
    child.on('error', (e) => reject(failure(`aosp importer: ${e.message}`, 'check that the native build works (allocreplay doctor)')));
    child.on('close', (code, signal) => {
      const last = Buffer.concat(out).toString('utf8').trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as Outcome);
      } catch {
        const why = signal ? `killed by ${signal}` : `exit ${code}: ${Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? ''}`;
        reject(failure(`aosp importer: ${why}`, 'report it, with the dump if you can'));
      }
    });
  });
}

/**
 * Android memory_replay text dumps: `<tid>: <op> <ptr> [args] [timestamps]`
 * (a `.zip` holding one is read directly: its first regular file, or
 * `opts.entry`), parsed and converted in native code (aosp_import.c) — a
 * plain file read from its descriptor, a zip's entry or a pipe's bytes
 * through its standard input. Every number is range-checked: a value
 * beyond the trace format's 2^53-1 is a malformed line, never a wrapped one.
 * The trace is written under `out.tmp` and renamed when whole.
 */
export async function importAosp(path: string, out: string, opts: ImportOptions = {}): Promise<ImportResult> {
  checkOutput(path, out);
  const bin = aospImporterPath();
  const source = await openDumpSource(path, opts);
  const entry = 'data' in source ? source.entry : undefined;
  const where = entry === undefined ? path : `${path}:${entry}`;
  const tmp = `${out}.tmp`;
  const undo: { kill?: () => void } = {};
  // Registered before `out.tmp` exists, so no signal finds the file unaccounted for.
  const dropPartial = (): void => {
    undo.kill?.();
    rmSync(tmp, { force: true });
  };
  const done = onInterrupt(dropPartial);
  let kept = false;
  try {
    // Made here so that an unwritable place fails as the TypeScript writer's does; the importer rewrites it.
    try {
      closeSync(openSync(tmp, 'w'));
    } catch (e) {
      throw failure(`cannot write ${out}: ${(e as Error).message}`, 'check the directory exists and is writable');
    }
    const header = Buffer.from(encodeHeader(importHeader('aosp', path))).toString('hex');
    const r = await run(bin, [header, tmp, ...(opts.lenient ? ['--lenient'] : [])], 'fd' in source ? source.fd : source.data, undo);
    switch (r.error) {
      case undefined:
        break;
      case 'malformed':
        throw malformedLine(where, r.line, r.problem || undefined, Buffer.from(r.text, 'hex').toString('latin1'));
      case 'event':
        throw inputError(`${out}: event ${r.event}: ${r.message}`, 'the trace is corrupt or was written by a faulty producer');
      case 'read':
        throw inputError(`${path}: cannot read (${r.message})`, 'check the path');
      case 'write':
        throw failure(`cannot write ${out}: ${r.message}`, 'check the disk has room and the directory is writable');
      case 'memory':
        throw failure(`importing ${where}: out of memory`, 'import on a machine with more memory');
    }
    if (r.events === 0) throw nothingImported(where, 'aosp', r.lines, r.skipped);
    renameSync(tmp, out);
    kept = true;
    const { events, objects, threads, peakLiveObjects, peakLiveBytes, checksum, nullFrees, unknownFrees, lostFrees, failedAllocations } = r;
    return {
      footer: { events, objects, threads, peakLiveObjects, peakLiveBytes, checksum },
      counts: { events, nullFrees, unknownFrees, lostFrees, failedAllocations },
      lines: r.lines,
      skipped: r.skipped,
      ...(entry === undefined ? {} : { entry }),
    };
  } finally {
    if ('fd' in source) closeSync(source.fd);
    done();
    if (!kept) dropPartial();
  }
}

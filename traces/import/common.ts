import { resolve } from 'node:path';
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { inputError, usageError } from '../platform/errors.js';
import type { TraceHeaderInit } from '../format/index.js';

/** The dump formats `import` reads. */
export type DumpFormat = 'aosp' | 'mtrace';

/** Refuses an output path that is the dump itself or a directory, before anything is written. */
export function checkOutput(path: string, out: string): void {
  if (resolve(out) === resolve(path)) throw usageError(`-o ${out}: that is the dump being imported`, 'write the trace to another file (e.g. dump.trace.msgpack)');
  if (statSync(out, { throwIfNoEntry: false })?.isDirectory()) throw usageError(`-o ${out}: is a directory`, 'give the path of the trace file to write');
}

/** The header of an imported trace: what produced it, from which file. */
export function importHeader(name: DumpFormat, path: string): TraceHeaderInit {
  return { producer: { kind: 'import', name, params: { file: basename(path) } }, hasTime: name === 'aosp' };
}

/** A malformed line's error: `where:line`, why (when more is known than "cannot parse"), its first 120 bytes. */
export function malformedLine(where: string, line: number, problem: string | undefined, text: string): Error {
  const why = problem ? `${problem} in` : 'cannot parse';
  return inputError(`${where}:${line}: ${why} '${text}'`, 'fix or remove the line, or pass --lenient to skip and count malformed lines');
}

/** A dump that gave no event. */
export function nothingImported(where: string, name: DumpFormat, lines: number, skipped: number): Error {
  return inputError(
    skipped ? `${where}: no line could be imported (${skipped} malformed lines skipped)` : `${where}: no allocation events in ${lines} lines`,
    name === 'aosp' ? 'is it an Android memory_replay dump (`<tid>: <op> <ptr> [args]`)?' : 'is it a glibc mtrace() log?',
  );
}

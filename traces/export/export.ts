import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { inputError } from '../platform/errors.js';
import { openTrace, validateTrace } from '../format/index.js';
import { Op } from '../vocabulary.js';

/**
 * Writes a trace as an Android memory_replay text dump. Pointers are
 * synthetic (derived from the object id, so the dump is deterministic);
 * threads become tids 1000, 1001, …; posix_memalign and aligned_alloc are
 * written as memalign, valloc and pvalloc as memalign 4096 (the format has
 * no such ops). The trace is read as a stream; to a file, the output
 * appears only when the whole trace has been read and found valid; to
 * stdout, the trace is validated in a first pass, so nothing is printed for
 * an invalid one.
 */
export function exportAosp(tracePath: string, out: string | undefined): number {
  const cutShort = (): never => {
    throw inputError(`${tracePath}: trace is cut short`, 'export needs a whole trace');
  };
  if (!out && !validateTrace(tracePath).footer) cutShort();
  const reader = openTrace(tracePath);
  const tmp = out ? `${out}.tmp${process.pid}` : undefined;
  const fd = tmp ? openSync(tmp, 'w') : 1;
  const ptr = (id: number): string => (id === 0 ? '0x0' : `0x${(0x10000000 + id * 16).toString(16)}`);
  let lines = 0;
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length) writeSync(fd, `${pending.join('\n')}\n`);
    pending = [];
  };
  try {
    for (const c of reader.chunks()) {
      for (let i = 0; i < c.length; i++) {
        const tid = 1000 + c.thread[i]!;
        const obj = c.object[i]!;
        const size = c.size[i]!;
        const arg = c.arg[i]!;
        let line: string;
        switch (c.op[i]) {
          case Op.malloc: line = `${tid}: malloc ${ptr(obj)} ${size}`; break;
          case Op.calloc: line = `${tid}: calloc ${ptr(obj)} ${arg} ${size}`; break;
          case Op.realloc: line = `${tid}: realloc ${ptr(obj)} ${ptr(arg)} ${size}`; break;
          case Op.free: line = `${tid}: free ${ptr(obj)}`; break;
          case Op.memalign:
          case Op.posix_memalign:
          case Op.aligned_alloc: line = `${tid}: memalign ${ptr(obj)} ${arg} ${size}`; break;
          case Op.valloc:
          case Op.pvalloc: line = `${tid}: memalign ${ptr(obj)} 4096 ${size}`; break;
          default: line = `${tid}: thread_done 0x0`;
        }
        if (c.time) line += ` ${c.time[i]!}`;
        pending.push(line);
        lines++;
        if (pending.length >= 65536) flush();
      }
    }
    flush();
    if (!reader.footer) cutShort();
    if (tmp) renameSync(tmp, out!);
  } finally {
    if (tmp) {
      closeSync(fd);
      rmSync(tmp, { force: true });
    }
  }
  return lines;
}
